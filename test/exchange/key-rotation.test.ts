import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import pino from 'pino';
import { User, UserExchangeConfig } from '../../src/entities';
import { KeyCipher } from '../../src/services/key-cipher';
import { rotateStoredKeys } from '../../src/services/key-rotation';
import { createMigratedOrm } from '../support/test-database';

describe('rotateStoredKeys', () => {
  let orm: MikroORM;
  let close: () => Promise<void>;
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    ({ orm, close } = await createMigratedOrm('keyrot'));
  });
  afterAll(async () => close());

  it('re-encrypts every credential not under the current key, across users, and leaves undecryptable ones alone', async () => {
    const oldMaster = randomBytes(32);
    const newMaster = randomBytes(32);
    const oldCipher = new KeyCipher(oldMaster);
    const em = orm.em.fork();
    const users = [0, 1, 2].map((i) => em.create(User, { email: `rot${i}@example.com`, passwordHash: 'x' }));
    const configs = users.map((u, i) => em.create(UserExchangeConfig, {
      user: u,
      apiKeyEnc: oldCipher.encrypt(`key-${i}`, u.id),
      apiSecretEnc: oldCipher.encrypt(`secret-${i}`, u.id),
    }));
    // One sealed under a key nobody holds any more.
    configs[2].apiSecretEnc = new KeyCipher(randomBytes(32)).encrypt('lost', users[2].id);
    await em.flush();

    const cipher = new KeyCipher(newMaster, oldMaster);
    const result = await rotateStoredKeys(orm.em, cipher, logger);
    expect(result).toEqual({ scanned: 3, rotated: 2, failed: 1, skipped: 0 });

    const check = orm.em.fork();
    const rows = await check.find(UserExchangeConfig, {}, { filters: { owner: false }, populate: ['apiKeyEnc', 'apiSecretEnc'] as never });
    for (const i of [0, 1]) {
      const row = rows.find((r) => r.user.id === users[i].id)!;
      expect(cipher.needsRotation(row.apiKeyEnc!)).toBe(false);
      expect(new KeyCipher(newMaster).decrypt(row.apiSecretEnc!, users[i].id)).toBe(`secret-${i}`);
    }
    expect(await rotateStoredKeys(orm.em, cipher, logger)).toEqual({ scanned: 3, rotated: 0, failed: 1, skipped: 0 });
  });
});
