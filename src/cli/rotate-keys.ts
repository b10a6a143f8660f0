import pino, { type Logger } from 'pino';
import { loadConfig } from '../config/app-config';
import { ConfigError } from '../config/config';
import { createLogger } from '../config/logger';
import { openDatabase } from '../db/database';
import { KeyCipher } from '../services/key-cipher';
import { rotateStoredKeys, type KeyRotationResult } from '../services/key-rotation';

/** Refused before touching the database: there is nothing to rotate from. */
export class KeyRotationUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRotationUsageError';
  }
}

export interface KeyRotationRun extends KeyRotationResult {
  /** Configs holding credentials after the run (PAPER configs hold none). */
  stored: number;
}

export const formatRotationSummary = (r: KeyRotationRun) =>
  `rotated ${r.rotated} of ${r.stored} stored keys (${r.failed} failed, ${r.skipped} skipped)`;

/**
 * Re-encrypts every stored exchange credential under MASTER_KEY, reading the
 * old ones with MASTER_KEY_PREVIOUS (which is still needed until this reports
 * 0 failed). Safe to run while servers run: rows are swapped compare-and-set.
 */
export async function runKeyRotation(env: NodeJS.ProcessEnv, logger?: Logger): Promise<KeyRotationRun> {
  const config = loadConfig(env, logger);
  const { masterKey, masterKeyPrevious } = config.secrets;
  if (!masterKeyPrevious) {
    throw new KeyRotationUsageError(
      'MASTER_KEY_PREVIOUS is not set: there is no old master key to rotate from. Set MASTER_KEY to the new key and MASTER_KEY_PREVIOUS to the one in use now.',
    );
  }
  if (masterKeyPrevious.equals(masterKey)) {
    throw new KeyRotationUsageError('MASTER_KEY and MASTER_KEY_PREVIOUS are the same key: nothing to rotate.');
  }
  // Logs go to stderr so stdout carries only the summary.
  const log = logger ?? createLogger(config.LOG_LEVEL, pino.destination({ dest: 2, sync: true }));
  const db = await openDatabase(config, log);
  try {
    const result = await rotateStoredKeys(db.orm.em, new KeyCipher(masterKey, masterKeyPrevious), log);
    const [row] = await db.orm.em.fork().getConnection().execute<Array<{ n: number }>>(
      'select count(*)::int as n from user_exchange_configs where api_key_enc is not null or api_secret_enc is not null',
    );
    return { ...result, stored: row.n };
  } finally {
    await db.close();
  }
}

if (require.main === module) {
  runKeyRotation(process.env).then(
    (result) => {
      process.stdout.write(`${formatRotationSummary(result)}\n`);
      process.exitCode = result.failed > 0 ? 1 : 0;
    },
    (err: unknown) => {
      const known = err instanceof KeyRotationUsageError || err instanceof ConfigError;
      process.stderr.write(`${known ? '' : 'Key rotation failed: '}${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = known ? 2 : 1;
    },
  );
}
