import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormOptions } from '../src/db/orm-options';

/** The machine's PostgreSQL (trust auth), as the tests use it; the benchmark gets a database of its own. */
const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  orm: MikroORM;
  url: string;
  /** The ORM's connection pool ceiling actually used. */
  poolMax: number;
  close(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database with the server's ORM options; `close` closes the
 * ORM and drops it. `poolMax` replaces the server's pool ceiling (a diagnosis
 * aid: the benchmark prints it when it differs).
 */
export async function createBenchDatabase(poolMax?: number): Promise<BenchDatabase> {
  const name = `bench_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const drop = () => admin(`drop database if exists "${name}" with (force)`);
  try {
    const options = ormOptions(url.toString());
    if (poolMax !== undefined) options.pool = { ...options.pool, max: poolMax };
    const orm = await MikroORM.init(options);
    await orm.getMigrator().up();
    return {
      orm,
      url: url.toString(),
      poolMax: options.pool?.max ?? Number.NaN,
      async close() {
        await orm.close(true);
        await drop();
      },
    };
  } catch (err) {
    await drop();
    throw err;
  }
}
