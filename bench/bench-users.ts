import { randomBytes, randomUUID } from 'node:crypto';
import type { MikroORM, RequiredEntityData } from '@mikro-orm/postgresql';
import { Exchange, Role, SubscriptionPlan, UserStatus } from '../src/entities/enums';
import { UserExchangeConfig } from '../src/entities/user-exchange-config.entity';
import { User } from '../src/entities/user.entity';
import type { KeyCipher } from '../src/services/key-cipher';
import type { RemoteFakeBinance } from './remote-fake-binance';

const BATCH = 500;
const BALANCE = '10000';

/**
 * Eligible users written straight to the database in bulk (ACTIVE, PRO, a
 * valid Binance key sealed with the app's cipher, leverage 5, 10 % cap), each
 * with the matching account on the fake exchange. Returns their ids.
 */
export async function seedUsers(deps: { orm: MikroORM; cipher: KeyCipher; fake: RemoteFakeBinance }, count: number, offset: number): Promise<string[]> {
  const { orm, cipher, fake } = deps;
  const ids: string[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const now = new Date();
    const users: RequiredEntityData<User>[] = [];
    const configs: RequiredEntityData<UserExchangeConfig>[] = [];
    const accounts: Array<{ apiKey: string; apiSecret: string; balance: string }> = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const id = randomUUID();
      // 64 alphanumeric characters, like a Binance key.
      const apiKey = randomBytes(32).toString('hex');
      const apiSecret = randomBytes(32).toString('hex');
      ids.push(id);
      users.push({
        id, email: `bench-${offset + i}@bench.invalid`, passwordHash: 'not-a-login', role: Role.USER, status: UserStatus.ACTIVE,
        statusReason: null, subscription: SubscriptionPlan.PRO, trialEndsAt: null, emailVerifiedAt: now, tokenVersion: 0, createdAt: now, updatedAt: now,
      });
      configs.push({
        id: randomUUID(), user: id, exchange: Exchange.BINANCE, apiKeyEnc: cipher.encrypt(apiKey, id), apiSecretEnc: cipher.encrypt(apiSecret, id),
        apiKeyMasked: `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`, testnet: false, leverage: 5, maxPositionPct: '0.1', isValid: true,
        lastVerifiedAt: now, lastVerifyError: null,
        permissions: { canRead: true, canTrade: true, canWithdraw: false, canTransfer: false, ipRestricted: false },
        createdAt: now, updatedAt: now,
      });
      accounts.push({ apiKey, apiSecret, balance: BALANCE });
    }
    const em = orm.em.fork();
    await em.insertMany(User, users);
    await em.insertMany(UserExchangeConfig, configs);
    await fake.addAccounts(accounts);
  }
  return ids;
}
