import 'reflect-metadata';
import { loadConfig } from './config/app-config';
import { ConfigError } from './config/config';
import { createLogger } from './config/logger';
import { createApp } from './app/create-app';

async function main(): Promise<void> {
  const bootLogger = createLogger(process.env.LOG_LEVEL && /^(fatal|error|warn|info|debug|trace|silent)$/.test(process.env.LOG_LEVEL) ? process.env.LOG_LEVEL : 'info');
  let config;
  try {
    config = loadConfig(process.env, bootLogger);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // Readable lines for a developer at a terminal; JSON wherever logs are collected.
  const logger = createLogger(config.LOG_LEVEL, undefined, { pretty: !config.production && process.stdout.isTTY === true });
  // Last resort (ASVS 16.5.4): a stray rejection is logged, not allowed to end every user's trading.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection (kept running)'));
  const app = await createApp(config, logger);
  logger.info({ url: app.url }, `GraphQL ready at ${app.url}`);

  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    app
      .stop()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
