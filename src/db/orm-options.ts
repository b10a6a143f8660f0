import path from 'node:path';
import { defineConfig } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from '../entities';

const projectRoot = path.resolve(__dirname, __filename.endsWith('.ts') ? '../..' : '../../..');

/** One place for the ORM options, shared by the server, the CLI and the tests. */
export function ormOptions(clientUrl: string, debugLogger?: (message: string) => void, driverLog?: (level: 'warn' | 'error', message: string) => void) {
  const runningTs = __filename.endsWith('.ts');
  return defineConfig({
    clientUrl,
    entities: ENTITIES,
    // MikroORM's TypeScript detection does not see @swc/jest: say it explicitly.
    preferTs: runningTs,
    allowGlobalContext: false,
    forceUtcTimezone: true,
    extensions: [Migrator],
    pool: { min: 0, max: 20 },
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: path.join(projectRoot, runningTs ? 'migrations' : 'dist/migrations'),
      pathTs: path.join(projectRoot, 'migrations'),
      glob: '!(*.d).{js,ts}',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    // knex writes connection trouble to the console unless given a logger: into ours, as JSON lines.
    ...(driverLog
      ? {
          driverOptions: {
            log: {
              warn: (m: unknown) => driverLog('warn', String(m)),
              error: (m: unknown) => driverLog('error', String(m)),
              deprecate: () => undefined,
              debug: () => undefined,
            },
          },
        }
      : {}),
    debug: debugLogger ? ['query'] : false,
    logger: debugLogger,
  });
}
