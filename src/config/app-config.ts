import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { parseEnv, type RawConfig } from './config';
import { loadOrCreateDevSecrets } from './dev-secrets';

/** The validated, resolved configuration every module receives (never `process.env`). */
export interface AppConfig extends Omit<RawConfig, 'MASTER_KEY' | 'MASTER_KEY_PREVIOUS' | 'JWT_SECRET' | 'MARKET_FEED' | 'PUBLIC_URL'> {
  production: boolean;
  dataDir: string;
  publicUrl: string;
  marketFeed: 'simulated' | 'binance';
  secrets: AppSecrets;
}

/** Kept apart so loggers and error paths never serialise them with the rest. */
export interface AppSecrets {
  masterKey: Buffer;
  masterKeyPrevious: Buffer | null;
  jwtSecret: Uint8Array;
}

export function loadConfig(env: NodeJS.ProcessEnv, logger?: Pick<Logger, 'warn'>): AppConfig {
  const raw = parseEnv(env);
  const dataDir = path.resolve(raw.DATA_DIR);
  const production = raw.NODE_ENV === 'production';
  let masterKey = raw.MASTER_KEY;
  let jwtSecret = raw.JWT_SECRET;
  if (!masterKey || !jwtSecret) {
    mkdirSync(dataDir, { recursive: true });
    const generated = loadOrCreateDevSecrets(dataDir, logger);
    masterKey ??= generated.MASTER_KEY;
    jwtSecret ??= generated.JWT_SECRET;
  }
  const { MASTER_KEY: _m, MASTER_KEY_PREVIOUS, JWT_SECRET: _j, MARKET_FEED, PUBLIC_URL, ...rest } = raw;
  return {
    ...rest,
    production,
    dataDir,
    publicUrl: PUBLIC_URL ?? `http://localhost:${raw.PORT}`,
    marketFeed: MARKET_FEED ?? (production ? 'binance' : 'simulated'),
    secrets: {
      masterKey: Buffer.from(masterKey, 'base64'),
      masterKeyPrevious: MASTER_KEY_PREVIOUS ? Buffer.from(MASTER_KEY_PREVIOUS, 'base64') : null,
      jwtSecret: new TextEncoder().encode(jwtSecret),
    },
  };
}
