import 'reflect-metadata';
import { loadConfig } from '../config/app-config';
import { ConfigError } from '../config/config';
import { createLogger } from '../config/logger';
import { openDatabase } from '../db/database';

/**
 * `npm run migrate`: applies pending migrations and exits. Safe from several
 * nodes at once (the migration advisory lock); `npm start` does the same.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.LOG_LEVEL);
  const db = await openDatabase(config, logger);
  await db.close();
  logger.info('migrations are up to date');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `Migration failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
  process.exit(1);
});
