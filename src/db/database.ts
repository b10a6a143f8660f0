import { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres';
import { migrateUnderLock } from './migrate';
import { ormOptions } from './orm-options';

export interface Database {
  orm: MikroORM;
  url: string;
  /** This deployment's identity (same on every node of it; see deployment.entity.ts). */
  deploymentId: string;
  close(): Promise<void>;
}

/** Connects (starting the embedded PostgreSQL when no DATABASE_URL is set) and applies pending migrations under the migration lock. */
export async function openDatabase(config: AppConfig, logger: Logger): Promise<Database> {
  let embedded: EmbeddedDatabase | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    url = embedded.url;
  }
  let orm: MikroORM | null = null;
  try {
    const dbLogger = logger.child({ module: 'db' });
    orm = await MikroORM.init(ormOptions(url, undefined, (level, message) => dbLogger[level](message)));
    const { deploymentId } = await migrateUnderLock(orm, url, logger);
    const opened = orm;
    return {
      orm: opened,
      url,
      deploymentId,
      async close() {
        await opened.close(true);
        await embedded?.stop();
      },
    };
  } catch (err) {
    await orm?.close(true).catch(() => undefined);
    await embedded?.stop();
    throw err;
  }
}
