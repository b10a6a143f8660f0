import { startPostgresProcess, type PostgresProcess } from './postgres-process';
import { redisMissing, tcpReachable } from './service-probe';

/** Where the machine's PostgreSQL is expected; a run can point the probe elsewhere (e.g. at a closed port). */
const MACHINE_PG = process.env.TEST_DATABASE_PROBE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

declare global {
  // eslint-disable-next-line no-var
  var __embeddedTestPostgres: PostgresProcess | undefined;
}

/**
 * Runs once before the suite. TEST_DATABASE_ADMIN_URL, when set, is used as
 * given. Otherwise the machine's PostgreSQL is used when it answers, and an
 * embedded PostgreSQL (a child process, stopped in global-teardown) when it
 * does not, so a fresh clone passes `npm test` with nothing installed beside it.
 */
export default async function globalSetup(): Promise<void> {
  if (!process.env.TEST_DATABASE_ADMIN_URL) {
    if (await tcpReachable(MACHINE_PG, 5432)) {
      process.env.TEST_DATABASE_ADMIN_URL = MACHINE_PG;
    } else {
      const pg = await startPostgresProcess();
      globalThis.__embeddedTestPostgres = pg;
      // Test workers inherit the environment: test/support/test-database.ts reads this.
      process.env.TEST_DATABASE_ADMIN_URL = pg.url;
      process.stdout.write(`\nNo PostgreSQL answers at ${new URL(MACHINE_PG).host}: the suite runs on an embedded PostgreSQL on port ${pg.port}.\n`);
    }
  }
  const redis = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await tcpReachable(redis, 6379))) process.stdout.write(`\n${redisMissing(redis)}; the tests that need it will fail.\n`);
}
