import { randomBytes } from 'node:crypto';
import type { FakeBinance } from '../support/fake-binance';
import type { AddAccountOptions } from '../support/fake-binance/fake-binance-state';
import type { SignedInUser } from '../support/factories';
import type { GqlResult } from '../support/graphql-client';
import type { TestApp } from '../support/test-app';

/** Shared by the exchange-config e2e files: GraphQL documents, keys shaped like Binance's, a bound account. */

export const CONFIG_FIELDS =
  'exchange apiKeyMasked testnet leverage maxPositionPct isValid lastVerifiedAt lastVerifyError permissions { canRead canTrade canWithdraw ipRestricted } updatedAt';
export const SET_CONFIG = `mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { ${CONFIG_FIELDS} } }`;
export const VERIFY_CONFIG = `mutation { verifyExchangeConfig { ok reason config { ${CONFIG_FIELDS} } } }`;
export const DELETE_CONFIG = 'mutation { deleteExchangeConfig }';
export const MY_CONFIG = `{ me { exchangeConfig { ${CONFIG_FIELDS} } } }`;

export const SYMBOL = 'BTCUSDT';

export interface BinanceKey {
  apiKey: string;
  apiSecret: string;
}

/** 32 random bytes as hex: 64 alphanumeric characters, the shape Binance gives keys and secrets. */
export const newBinanceKey = (): BinanceKey => ({ apiKey: randomBytes(32).toString('hex'), apiSecret: randomBytes(32).toString('hex') });

export const maskedForm = (apiKey: string) => `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`;

/** Every Binance base URL pointed at the fake, and mail at the capture. */
export function binanceEnv(fake: FakeBinance, smtpUrl: string): Record<string, string> {
  return {
    BINANCE_FUTURES_URL: fake.url,
    BINANCE_FUTURES_TESTNET_URL: fake.url,
    BINANCE_SPOT_URL: fake.url,
    BINANCE_SPOT_TESTNET_URL: fake.url,
    BINANCE_FUTURES_WS_URL: fake.wsUrl,
    BINANCE_FUTURES_TESTNET_WS_URL: fake.wsUrl,
    SMTP_URL: smtpUrl,
  };
}

/** Opens an account on the fake exchange with a fresh key. */
export function openFakeAccount(fake: FakeBinance, opts: Partial<AddAccountOptions> = {}): BinanceKey {
  const key = newBinanceKey();
  fake.addAccount({ ...key, balance: '1000', ...opts });
  return key;
}

export async function setConfig(t: TestApp, user: SignedInUser, input: Record<string, unknown>): Promise<GqlResult> {
  return t.gql(SET_CONFIG, { i: input }, user.accessToken);
}

export async function myConfig(t: TestApp, user: SignedInUser): Promise<Record<string, any> | null> {
  const res = await t.gql(MY_CONFIG, {}, user.accessToken);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.me.exchangeConfig;
}

/** The raw stored row, owner filter bypassed: what the database actually holds. */
export async function storedRow(t: TestApp, userId: string): Promise<Record<string, any> | undefined> {
  const rows = await t.app.services.orm.em.fork().getConnection().execute(
    'select * from user_exchange_configs where user_id = ?',
    [userId],
  );
  return rows[0];
}

/** Moves a key's last verdict two minutes into the past: the next verification asks the exchange again. */
export async function ageVerdict(t: TestApp, userId: string): Promise<void> {
  await t.app.services.orm.em.fork().getConnection().execute(
    "update user_exchange_configs set last_verified_at = last_verified_at - interval '2 minutes' where user_id = ?",
    [userId],
  );
}
