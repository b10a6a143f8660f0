import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp, type App } from '../../src/app/create-app';
import { loadConfig } from '../../src/config/app-config';
import { createLogger } from '../../src/config/logger';
import type { Clock } from '../../src/engine/ports';
import { gql, type GqlResult } from './graphql-client';
import { LogCapture } from './log-capture';
import { redisMissing, tcpReachable } from './service-probe';
import { createTestDatabase, type TestDatabase } from './test-database';

export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApp {
  app: App;
  url: string;
  logs: LogCapture;
  gql<T = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResult<T>>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  /** Reuse another node's database (multi-node tests); otherwise a fresh one is created and dropped. */
  database?: TestDatabase;
  /** Business time for the engine (risk's UTC days and weeks). */
  clock?: Clock;
}

/** Starts a whole server node in-process on an ephemeral port, against its own database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.database ?? (await createTestDatabase());
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'btc-saas-test-'));
  const logs = new LogCapture();
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    MASTER_KEY: TEST_MASTER_KEY,
    JWT_SECRET: TEST_JWT_SECRET,
    ENGINE_ENABLED: 'false',
    LOG_LEVEL: 'debug',
    // Every test signs its users up from 127.0.0.1; the sign-up limit itself is tested with its own value.
    SIGNUP_NETWORK_LIMIT: '100000',
    // Production refuses a local PUBLIC_URL; tests of production mode get a public-looking one unless they say otherwise.
    ...(options.env?.NODE_ENV === 'production' ? { PUBLIC_URL: 'https://trade.example.com' } : {}),
    ...options.env,
  };
  if (env.REDIS_URL && !(await tcpReachable(env.REDIS_URL, 6379))) throw new Error(redisMissing(env.REDIS_URL));
  const config = loadConfig(env as NodeJS.ProcessEnv);
  const logger = createLogger(config.LOG_LEVEL, logs);
  const app = await createApp(config, logger, { clock: options.clock });
  return {
    app,
    url: app.url,
    logs,
    gql: (query, variables, token) => gql(app.url, query, variables, token),
    async stop() {
      await app.stop();
      if (!options.database) await db.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
