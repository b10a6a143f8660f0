import { FakeBinance } from '../support/fake-binance';
import { startTestApp, type TestApp } from '../support/test-app';
import { ageVerdict, newBinanceKey, SET_CONFIG, VERIFY_CONFIG } from '../exchange-config/exchange-config-kit';
import { accessTokenOf, binanceEnv, createBinanceUser, storedConfig, waitFor } from './support/binance-fleet';

/**
 * One account's broken exchange side (a host that never answers, a refused or
 * unreadable key, a testnet key) stays that account's problem: the others'
 * reconciliation and streams go on, shutdown is not held up, a refused key is
 * never used for signing, and a testnet key is checked by the same rules on
 * hosts that only the BINANCE_* settings name.
 */
describe('accounts whose exchange side is broken', () => {
  const mainnet = new FakeBinance();
  const testnet = new FakeBinance();
  let t: TestApp;

  beforeAll(async () => {
    await Promise.all([mainnet.start(), testnet.start()]);
    t = await startTestApp({
      env: {
        ...binanceEnv(mainnet),
        BINANCE_FUTURES_TESTNET_URL: testnet.url,
        BINANCE_SPOT_TESTNET_URL: testnet.url,
        BINANCE_FUTURES_TESTNET_WS_URL: testnet.wsUrl,
        ENGINE_ENABLED: 'true', MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200',
        // One account's whole share of a pass (and of opening its stream).
        ENGINE_USER_TIMEOUT_MS: '1500',
      },
    });
    await waitFor(() => t.app.services.engine.leading, 'this node to lead');
  });
  afterAll(async () => {
    await t.stop();
    await Promise.all([mainnet.stop(), testnet.stop()]);
  });

  it('binds a testnet key on the testnet hosts only, its stream included, and refuses one with withdrawals like any other', async () => {
    const user = await createBinanceUser(t, mainnet, { tag: 'testnet' });
    const token = await accessTokenOf(t, user);
    const key = newBinanceKey();
    testnet.addAccount({ ...key, balance: '1000' });
    const bound = await t.gql(SET_CONFIG, { i: { ...key, testnet: true, leverage: 3, maxPositionPct: 0.05 } }, token);
    expect(bound.errors).toBeUndefined();
    expect(bound.data!.setExchangeConfig).toMatchObject({ testnet: true, isValid: true, permissions: { canRead: true, canTrade: true, canWithdraw: false } });
    expect(testnet.requests({ path: '/sapi/v1/account/apiRestrictions', apiKey: key.apiKey })).toHaveLength(1);
    await t.app.services.engine.reconcileNow();
    await waitFor(() => testnet.userConnectionCount(key.apiKey) === 1, 'the testnet user-data stream');
    expect(mainnet.requests({ apiKey: key.apiKey })).toHaveLength(0);

    testnet.setPermissions(key.apiKey, { enableWithdrawals: true });
    await ageVerdict(t, user.id); // the verdict of a moment ago would be answered as it stands
    const refused = await t.gql(VERIFY_CONFIG, {}, token);
    expect(refused.data!.verifyExchangeConfig).toMatchObject({ ok: false, config: { isValid: false, permissions: { canWithdraw: true } } });
    expect(refused.data!.verifyExchangeConfig.reason).toMatch(/withdrawals are enabled/);
    // A refused key is let go of: its stream closes at the next sync, and the reconciler no longer signs with it.
    await t.app.services.engine.reconcileNow();
    await waitFor(() => testnet.userConnectionCount(key.apiKey) === 0, 'the refused key to lose its stream');
    testnet.clearRequestLog();
    await t.app.services.engine.reconcileNow();
    expect(testnet.requests({ apiKey: key.apiKey })).toHaveLength(0);
  });

  it('reconciles and streams everyone else while one account never answers', async () => {
    const healthy = [await createBinanceUser(t, mainnet, { tag: 'healthy' }), await createBinanceUser(t, mainnet, { tag: 'healthy' })];
    const stuck = await createBinanceUser(t, mainnet, { tag: 'stuck' });
    const fault = mainnet.injectFault({ kind: 'hang', apiKey: stuck.apiKey, times: Infinity });
    try {
      const summary = await t.app.services.engine.reconcileNow();
      expect(summary!.failures).toBeGreaterThanOrEqual(1);
      expect(summary!.users - summary!.failures).toBeGreaterThanOrEqual(healthy.length);
      for (const user of healthy) await waitFor(() => mainnet.userConnectionCount(user.apiKey) === 1, 'a healthy account to stream');
      expect(mainnet.userConnectionCount(stuck.apiKey)).toBe(0);
      expect(t.logs.text()).toContain('reconciling this account took too long');
    } finally {
      fault.remove();
    }
    // Answering again, it is picked up at the next pass.
    await t.app.services.engine.reconcileNow();
    await waitFor(() => mainnet.userConnectionCount(stuck.apiKey) === 1, 'the recovered account to stream');
  });

  it('switches off a key that can no longer be decrypted, with a reason, and never signs with it again', async () => {
    const user = await createBinanceUser(t, mainnet, { tag: 'unreadable' });
    const db = t.app.services.orm.em.fork().getConnection();
    const [row] = await db.execute('select api_secret_enc from user_exchange_configs where user_id = ?', [user.id]);
    const [prefix, keyId, body] = (row.api_secret_enc as string).split(':');
    const bytes = Buffer.from(body!, 'base64');
    bytes[bytes.length - 1] ^= 0x01; // one bit of the sealed secret
    await db.execute('update user_exchange_configs set api_secret_enc = ? where user_id = ?', [`${prefix}:${keyId}:${bytes.toString('base64')}`, user.id]);
    await t.app.services.engine.reconcileNow();
    const config = await storedConfig(t, user.id);
    expect(config.isValid).toBe(false);
    expect(config.lastVerifyError).toMatch(/stored API key could not be read; set the API key and secret again/);
    mainnet.clearRequestLog();
    await t.app.services.engine.reconcileNow();
    expect(mainnet.requests({ apiKey: user.apiKey })).toHaveLength(0);
  });

  it('stops within moments while a pass waits on accounts that never answer', async () => {
    // A node of its own (its own database, so it leads at once) with the default 20 s per account.
    const own = await startTestApp({
      env: { ...binanceEnv(mainnet), ENGINE_ENABLED: 'true', MARKET_FEED: 'simulated', SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200' },
    });
    const stuck = [await createBinanceUser(own, mainnet, { tag: 'stuck-at-stop' }), await createBinanceUser(own, mainnet, { tag: 'stuck-at-stop' })];
    const faults = stuck.map((user) => mainnet.injectFault({ kind: 'hang', apiKey: user.apiKey, times: Infinity }));
    try {
      await waitFor(() => own.app.services.engine.leading, 'the node to lead');
      const pass = own.app.services.engine.reconcileNow();
      await waitFor(() => stuck.every((user) => mainnet.requests({ apiKey: user.apiKey }).some((r) => r.fault === 'hang')), 'the pass to reach both accounts');
      const stopped = own.stop().then(() => 'stopped' as const);
      const held = new Promise<'held'>((resolve) => setTimeout(() => resolve('held'), 5_000).unref());
      // Held up, the stop would wait out each account's 20 s; it ends with the pass given up instead.
      expect(await Promise.race([stopped, held])).toBe('stopped');
      await expect(pass).resolves.toMatchObject({ failures: 2 });
    } finally {
      for (const fault of faults) fault.remove();
    }
  });
});
