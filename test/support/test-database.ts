import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { ormOptions } from '../../src/db/orm-options';

/** The machine's PostgreSQL (trust auth). Each test file gets a database of its own. */
export const TEST_PG_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** One statement on its own connection to the database at `url` (a job worker's tables, outside any ORM). */
export async function queryDatabase<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Creates an empty database; the server (or `migrateTestDatabase`) applies the migrations. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}"`));
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/** A migrated database with an ORM on it, for service-level tests that do not start the server. */
export async function createMigratedOrm(prefix = 't'): Promise<{ orm: MikroORM; db: TestDatabase; close(): Promise<void> }> {
  const db = await createTestDatabase(prefix);
  const orm = await MikroORM.init(ormOptions(db.url));
  await orm.getMigrator().up();
  return {
    orm,
    db,
    async close() {
      await orm.close(true);
      await db.drop();
    },
  };
}
