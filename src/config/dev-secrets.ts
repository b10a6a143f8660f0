import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

interface DevSecrets {
  MASTER_KEY: string;
  JWT_SECRET: string;
}

/**
 * Development only (production refuses to start without the secrets): generate
 * them once into DATA_DIR with mode 0600 so restarts keep decrypting stored keys.
 */
export function loadOrCreateDevSecrets(dataDir: string, logger?: Pick<Logger, 'warn'>): DevSecrets {
  const file = path.join(dataDir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = {
    MASTER_KEY: randomBytes(32).toString('base64'),
    JWT_SECRET: randomBytes(48).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600, flag: 'wx' });
  logger?.warn({ file }, 'MASTER_KEY/JWT_SECRET not set: generated development secrets (never do this in production)');
  return secrets;
}
