import type { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import type { Logger } from 'pino';

/** Advisory-lock key every node takes before migrating (any constant shared by all nodes; "MIGR"). */
const MIGRATION_LOCK_KEY = 0x4d49_4752;

/**
 * Applies pending migrations holding a PostgreSQL session advisory lock, so
 * nodes starting together (or `npm run migrate` beside `npm start`) migrate
 * one at a time: the next one finds nothing left to do. The lock belongs to
 * its own connection and ends with it, so a node that dies mid-way frees it.
 * Also creates this deployment's identity row under the same lock.
 */
export async function migrateUnderLock(orm: MikroORM, url: string, logger: Logger): Promise<{ applied: string[]; deploymentId: string }> {
  const lock = new Client({ connectionString: url });
  lock.on('error', (err) => logger.warn({ err: err.message }, 'migration lock connection lost'));
  await lock.connect();
  try {
    const { rows } = await lock.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [MIGRATION_LOCK_KEY]);
    if (!rows[0]?.ok) {
      logger.info('another node is applying migrations; waiting for it');
      await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    const applied = (await orm.getMigrator().up()).map((m) => m.name);
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied pending migrations');
    const connection = orm.em.getConnection();
    await connection.execute('insert into deployment (singleton, id, created_at) values (1, gen_random_uuid(), now()) on conflict do nothing');
    const [row] = await connection.execute<Array<{ id: string }>>('select id from deployment where singleton = 1');
    return { applied, deploymentId: row.id };
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}
