import { spawn, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { eventually } from './eventually';
import { freePort } from './postgres-process';

export interface RedisProcess {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: a crash, not a clean shutdown). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (no persistence). */
  start(): Promise<void>;
  readonly running: boolean;
  /** A short-lived client for assertions . */
  client(): Redis;
}

/** A redis-server of the test's own on a free port, which the test can kill and bring back. */
export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;

  const start = async () => {
    if (child) throw new Error('redis-server is already running');
    const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = proc;
    // Never outlive the test run, whatever happens to it.
    process.once('exit', () => proc.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', () => resolve());
      proc.once('error', (err) => reject(new Error(`redis-server could not start (${err.message}): install redis-server`)));
    });
    await eventually('redis-server to answer', async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 50 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        const pong = await probe.ping();
        await probe.quit();
        return pong === 'PONG';
      } catch {
        probe.disconnect();
        return false;
      }
    }, 10_000);
  };

  const kill = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };

  await start();
  return {
    url,
    port,
    get running() {
      return child !== null;
    },
    kill,
    start,
    client: () => {
      const c = new Redis(url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
      c.on('error', () => undefined);
      return c;
    },
  };
}
