import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { UserExchangeConfig } from '../entities';
import { KeyDecryptError, type KeyCipher } from './key-cipher';

export interface KeyRotationResult {
  scanned: number;
  rotated: number;
  /** Could not be decrypted with the current or previous master key: left untouched, needs the user to re-enter it. */
  failed: number;
  /** Changed by someone else while we worked: their newer value wins. */
  skipped: number;
}

const BATCH = 200;

/**
 * Re-encrypts every stored API key/secret not sealed under the current master
 * key (run after moving MASTER_KEY to MASTER_KEY_PREVIOUS). Cross-user by
 * nature, so the owner filter is turned off explicitly. Each row is swapped
 * with a compare-and-set on the old ciphertexts so a concurrent key change is
 * never overwritten with stale credentials.
 */
export async function rotateStoredKeys(em: EntityManager, cipher: KeyCipher, logger: Pick<Logger, 'info' | 'warn'>): Promise<KeyRotationResult> {
  const result: KeyRotationResult = { scanned: 0, rotated: 0, failed: 0, skipped: 0 };
  let afterId: string | null = null;
  for (;;) {
    const fork = em.fork();
    const where = afterId ? { id: { $gt: afterId } } : {};
    const rows: UserExchangeConfig[] = await fork.find(UserExchangeConfig, where, {
      filters: { owner: false },
      populate: ['apiKeyEnc', 'apiSecretEnc'] as never,
      orderBy: { id: 'asc' },
      limit: BATCH,
    });
    if (rows.length === 0) break;
    afterId = rows[rows.length - 1].id;
    for (const row of rows) {
      result.scanned++;
      const oldKey = row.apiKeyEnc;
      const oldSecret = row.apiSecretEnc;
      const stale = (oldKey && cipher.needsRotation(oldKey)) || (oldSecret && cipher.needsRotation(oldSecret));
      if (!stale) continue;
      const userId = row.user.id;
      let newKey: string | null;
      let newSecret: string | null;
      try {
        newKey = oldKey ? (cipher.needsRotation(oldKey) ? cipher.encrypt(cipher.decrypt(oldKey, userId), userId) : oldKey) : null;
        newSecret = oldSecret
          ? (cipher.needsRotation(oldSecret) ? cipher.encrypt(cipher.decrypt(oldSecret, userId), userId) : oldSecret)
          : null;
      } catch (err) {
        if (!(err instanceof KeyDecryptError)) throw err;
        result.failed++;
        logger.warn({ configId: row.id, userId }, 'exchange credentials could not be decrypted during rotation');
        continue;
      }
      const changed = await fork.nativeUpdate(
        UserExchangeConfig,
        { id: row.id, apiKeyEnc: oldKey, apiSecretEnc: oldSecret },
        { apiKeyEnc: newKey, apiSecretEnc: newSecret },
        { filters: { owner: false } },
      );
      if (changed === 1) result.rotated++;
      else result.skipped++;
    }
    if (rows.length < BATCH) break;
  }
  logger.info({ ...result }, 'stored exchange credentials rotated');
  return result;
}
