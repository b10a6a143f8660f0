import { randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import { Exchange, SubscriptionPlan, UserStatus } from '../../../src/entities/enums';
import { Order } from '../../../src/entities/order.entity';
import { UserExchangeConfig } from '../../../src/entities/user-exchange-config.entity';
import { UserExecution } from '../../../src/entities/user-execution.entity';
import { UserRiskState } from '../../../src/entities/user-risk-state.entity';
import { User } from '../../../src/entities/user.entity';
import { login, PASSWORD, uniqueEmail } from '../../support/factories';
import type { FakeBinance } from '../../support/fake-binance';
import type { TestApp } from '../../support/test-app';

/** Hashed once per process: cost 4 keeps a 20-user fleet fast; login accepts any bcrypt cost. */
let passwordHash: string | null = null;
const hashOfTestPassword = () => (passwordHash ??= bcrypt.hashSync(PASSWORD, 4));

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Binance keys and secrets are 64 letters and digits. */
export function binanceKey(): string {
  const bytes = randomBytes(64);
  return [...bytes].map((b) => ALNUM[b % ALNUM.length]).join('');
}

export interface FleetUser {
  id: string;
  email: string;
  apiKey: string;
  apiSecret: string;
}

export interface FleetUserOptions {
  tag?: string;
  status?: UserStatus;
  plan?: SubscriptionPlan;
  /** FREE users only; defaults to a trial that runs another 5 days. */
  trialEndsAt?: Date | null;
  /** USDT on the fake exchange account. */
  balance?: number;
  /** The user's saved leverage (what sizing uses). */
  leverage?: number;
  /** The leverage the exchange account is really on, when it differs from the saved one. */
  exchangeLeverage?: number;
  maxPositionPct?: string;
  isValid?: boolean;
  lastVerifyError?: string | null;
  /** Risk-locks the user with this reason. */
  lockedReason?: string;
}

/**
 * Creates a user with a bound Binance key straight through the app's ORM (a
 * GraphQL sign-up per user would make a 20-user fleet slow) and the matching
 * account on the fake exchange. The password is the factories' PASSWORD.
 */
export async function createBinanceUser(t: TestApp, fake: FakeBinance, opts: FleetUserOptions = {}): Promise<FleetUser> {
  const { cipher, orm } = t.app.services;
  const em = orm.em.fork();
  const apiKey = binanceKey();
  const apiSecret = binanceKey();
  const plan = opts.plan ?? SubscriptionPlan.PRO;
  const leverage = opts.leverage ?? 5;
  const user = em.create(User, {
    email: uniqueEmail(opts.tag ?? 'fleet'),
    passwordHash: hashOfTestPassword(),
    status: opts.status ?? UserStatus.ACTIVE,
    subscription: plan,
    trialEndsAt: opts.trialEndsAt !== undefined ? opts.trialEndsAt : plan === SubscriptionPlan.FREE ? new Date(Date.now() + 5 * 86_400_000) : null,
    emailVerifiedAt: new Date(),
  });
  em.create(UserExchangeConfig, {
    user,
    exchange: Exchange.BINANCE,
    apiKeyEnc: cipher.encrypt(apiKey, user.id),
    apiSecretEnc: cipher.encrypt(apiSecret, user.id),
    apiKeyMasked: `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`,
    leverage,
    maxPositionPct: opts.maxPositionPct ?? '0.05',
    isValid: opts.isValid ?? true,
    lastVerifiedAt: new Date(),
    lastVerifyError: opts.isValid === false ? (opts.lastVerifyError ?? 'the exchange rejected this API key') : null,
  });
  if (opts.lockedReason) {
    em.create(UserRiskState, { user, isLocked: true, lockKind: 'DAILY_LOSS', lockedReason: opts.lockedReason, lockedAt: new Date() });
  }
  await em.flush();
  fake.addAccount({ apiKey, apiSecret, balance: opts.balance ?? 10_000, leverage: opts.exchangeLeverage ?? leverage });
  return { id: user.id, email: user.email, apiKey, apiSecret };
}

export async function createBinanceUsers(t: TestApp, fake: FakeBinance, count: number, opts: FleetUserOptions = {}): Promise<FleetUser[]> {
  const users: FleetUser[] = [];
  for (let i = 0; i < count; i++) users.push(await createBinanceUser(t, fake, opts));
  return users;
}

export async function accessTokenOf(t: TestApp, user: { email: string }): Promise<string> {
  const res = await login(t, user.email);
  if (res.errors) throw new Error(JSON.stringify(res.errors));
  return res.data!.login.accessToken;
}

/** Every app of a test points its Binance clients at the fake. */
export const binanceEnv = (fake: FakeBinance) => ({
  BINANCE_FUTURES_URL: fake.url,
  BINANCE_FUTURES_TESTNET_URL: fake.url,
  BINANCE_SPOT_URL: fake.url,
  BINANCE_SPOT_TESTNET_URL: fake.url,
  BINANCE_FUTURES_WS_URL: fake.wsUrl,
  BINANCE_FUTURES_TESTNET_WS_URL: fake.wsUrl,
});

/** The user's stored rows, read past the owner filter as an operator would. */
export async function storedExecutions(t: TestApp, signalId: string) {
  const em = t.app.services.orm.em.fork();
  const rows = await em.find(UserExecution, { signal: signalId }, { filters: { owner: false }, populate: ['order'] });
  return new Map(rows.map((r) => [r.user.id, r]));
}

export async function storedOrders(t: TestApp, signalId: string) {
  const em = t.app.services.orm.em.fork();
  return em.find(Order, { signal: signalId }, { filters: { owner: false } });
}

export async function storedConfig(t: TestApp, userId: string) {
  return t.app.services.orm.em.fork().findOneOrFail(UserExchangeConfig, { user: userId }, { filters: { owner: false } });
}

/** POST /fapi/v1/order requests the fake received from this key (answered or not). */
export const orderPosts = (fake: FakeBinance, apiKey: string) => fake.requests({ method: 'POST', path: '/fapi/v1/order', apiKey });

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
