import { FakeBinance } from '../support/fake-binance';
import { signInAdmin, type SignedInUser } from '../support/factories';
import { codeOf } from '../support/graphql-client';
import { startTestApp, type TestApp } from '../support/test-app';
import { accessTokenOf, binanceEnv, createBinanceUser, orderPosts, storedConfig, type FleetUser } from '../execution-e2e/support/binance-fleet';
import { ageVerdict, newBinanceKey, SET_CONFIG, VERIFY_CONFIG } from './exchange-config-kit';

const ADMIN = { email: 'verify-limits-admin@example.com', password: 'verify limits admin password' };
const BROADCAST = 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { placed results { userId status reason } } }';

/** Verifications that reached the exchange for a key: each starts by reading the key's API restrictions. */
const verificationCalls = (fake: FakeBinance, apiKey: string) => fake.requests({ path: '/sapi/v1/account/apiRestrictions', apiKey }).length;

/** Binance counts weight per IP per clock minute: start a test early in a minute so it does not straddle two. */
async function earlyInAMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 200));
}

/**
 * A user's key verifications are limited, and every user-triggered exchange
 * call stops short of the share of the IP's weight budget kept for signals:
 * one user (or a hundred) pressing "verify" never leaves the signals without it.
 */
describe('key verification against the shared exchange budget', () => {
  const fake = new FakeBinance();
  let t: TestApp;
  let admin: SignedInUser;

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({ env: { ...binanceEnv(fake), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    t.app.services.prices.set('BTCUSDT', '50000');
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('allows five verifications per user in ten minutes; a flood of them reaches the exchange five times and changes nothing after', async () => {
    const flooder = await createBinanceUser(t, fake, { tag: 'flood', isValid: false, lastVerifyError: 'not verified yet' });
    const token = await accessTokenOf(t, flooder);
    fake.revokeKey(flooder.apiKey); // every verification runs to the exchange and comes back invalid: nothing is cached
    const answers = await Promise.all(Array.from({ length: 12 }, () => t.gql(VERIFY_CONFIG, {}, token)));
    const verdicts = answers.filter((r) => !r.errors);
    expect(verdicts).toHaveLength(5);
    for (const v of verdicts) expect(v.data!.verifyExchangeConfig.ok).toBe(false);
    const refused = answers.filter((r) => r.errors);
    expect(refused.map(codeOf)).toEqual(Array(7).fill('RATE_LIMITED'));
    expect(refused[0]!.errors![0]!.extensions!.retryAfterSeconds).toEqual(expect.any(Number));
    expect(verificationCalls(fake, flooder.apiKey)).toBe(5);

    // Binding a new key is a verification too: refused before anything is stored.
    const before = await storedConfig(t, flooder.id);
    const rebind = await t.gql(SET_CONFIG, { i: { ...newBinanceKey(), leverage: 3, maxPositionPct: 0.05 } }, token);
    expect(codeOf(rebind)).toBe('RATE_LIMITED');
    const after = await storedConfig(t, flooder.id);
    expect(after!.apiKeyMasked).toBe(before!.apiKeyMasked);
    expect(after!.leverage).toBe(before!.leverage);

    // The limit is this user's: someone else verifies as usual.
    const other = await createBinanceUser(t, fake, { tag: 'other', isValid: false, lastVerifyError: 'not verified yet' });
    const res = await t.gql(VERIFY_CONFIG, {}, await accessTokenOf(t, other));
    expect(res.errors).toBeUndefined();
    expect(res.data!.verifyExchangeConfig.ok).toBe(true);
  });

  it('answers a valid key verified within the last minute, unchanged since, from its verdict: no limit spent, no exchange weight', async () => {
    const user = await createBinanceUser(t, fake, { tag: 'fresh', isValid: false, lastVerifyError: 'not verified yet' });
    const token = await accessTokenOf(t, user);
    expect((await t.gql(VERIFY_CONFIG, {}, token)).data!.verifyExchangeConfig.ok).toBe(true);
    for (let i = 0; i < 8; i++) {
      const again = await t.gql(VERIFY_CONFIG, {}, token);
      expect(again.data!.verifyExchangeConfig).toMatchObject({ ok: true, reason: null });
    }
    expect(verificationCalls(fake, user.apiKey)).toBe(1);
    // A minute later the exchange is asked again.
    await ageVerdict(t, user.id);
    expect((await t.gql(VERIFY_CONFIG, {}, token)).data!.verifyExchangeConfig.ok).toBe(true);
    expect(verificationCalls(fake, user.apiKey)).toBe(2);
  });

  it("refuses a user's verification while only the trading reserve is left, and signals still trade on the reserve", async () => {
    await earlyInAMinute();
    const traders: FleetUser[] = [await createBinanceUser(t, fake, { tag: 'trader' }), await createBinanceUser(t, fake, { tag: 'trader' })];
    const waiting = await createBinanceUser(t, fake, { tag: 'waiting', isValid: false, lastVerifyError: 'not verified yet' });
    const token = await accessTokenOf(t, waiting);
    // Other servers on this IP have spent 1500 of Binance's weight this minute; the fan-out's answers say so.
    fake.spendWeight(1500);
    const opened = await t.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, admin.accessToken);
    expect(opened.errors).toBeUndefined();
    const outcomeOf = (report: { results: Array<{ userId: string; status: string }> }, user: FleetUser) =>
      report.results.find((r) => r.userId === user.id)?.status;
    for (const trader of traders) expect(outcomeOf(opened.data!.broadcastSignal, trader)).toBe('PLACED');

    fake.clearRequestLog();
    const refused = await t.gql(VERIFY_CONFIG, {}, token);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0]!.message).toMatch(/kept for trading; try again in \d+ s/);
    expect(fake.requests({ apiKey: waiting.apiKey })).toHaveLength(0);
    const stored = await storedConfig(t, waiting.id);
    expect(stored).toMatchObject({ isValid: false, lastVerifyError: 'not verified yet' });

    const closed = await t.gql(BROADCAST, { i: { action: 'CLOSE' } }, admin.accessToken);
    for (const trader of traders) expect(outcomeOf(closed.data!.broadcastSignal, trader)).toBe('PLACED');
    for (const trader of traders) expect(orderPosts(fake, trader.apiKey)).toHaveLength(1);
    for (const trader of traders) expect(fake.account(trader.apiKey).position('BTCUSDT').amt.toFixed()).toBe('0');
  });
});
