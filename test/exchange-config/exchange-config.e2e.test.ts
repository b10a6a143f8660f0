import { FakeBinance } from '../support/fake-binance';
import { login, PASSWORD, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { codeOf, type GqlResult } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import {
  ageVerdict, binanceEnv, DELETE_CONFIG, maskedForm, myConfig, newBinanceKey, openFakeAccount, setConfig, storedRow, SYMBOL, VERIFY_CONFIG,
  type BinanceKey,
} from './exchange-config-kit';

describe('exchange config over GraphQL against the local Binance', () => {
  let t: TestApp;
  const fake = new FakeBinance();
  const mail = new MailCapture();
  /** Every response body this file received: a secret must never be in any of them. */
  const responses: GqlResult[] = [];
  const keysUsed: BinanceKey[] = [];

  const bind = async (user: SignedInUser, key: BinanceKey, extra: Record<string, unknown> = {}) => {
    keysUsed.push(key);
    const res = await setConfig(t, user, { ...key, leverage: 3, maxPositionPct: 0.05, ...extra });
    responses.push(res);
    return res;
  };

  beforeAll(async () => {
    await fake.start();
    const smtp = await mail.start();
    t = await startTestApp({ env: binanceEnv(fake, smtp) });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
    await mail.stop();
  });

  describe('binding a key', () => {
    it('accepts a read+futures key: valid, masked, leverage set on the exchange, one-way mode read', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake, { leverage: 20 });
      const before = Date.now();
      const res = await bind(user, key, { leverage: 7, maxPositionPct: 0.04 });
      expect(res.errors).toBeUndefined();
      const config = res.data!.setExchangeConfig;
      expect(config).toMatchObject({
        exchange: 'BINANCE',
        apiKeyMasked: maskedForm(key.apiKey),
        testnet: false,
        leverage: 7,
        maxPositionPct: 0.04,
        isValid: true,
        lastVerifyError: null,
        permissions: { canRead: true, canTrade: true, canWithdraw: false, ipRestricted: false },
      });
      expect(config.apiKeyMasked).toBe(`${key.apiKey.slice(0, 4)}…${key.apiKey.slice(-4)}`);
      expect(new Date(config.lastVerifiedAt).getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(fake.account(key.apiKey).leverageOf(SYMBOL)).toBe(7);
      expect(fake.requests({ path: '/fapi/v1/positionSide/dual', apiKey: key.apiKey })).toHaveLength(1);
      expect(fake.requests({ path: '/sapi/v1/account/apiRestrictions', apiKey: key.apiKey })).toHaveLength(1);

      const me = await myConfig(t, user);
      expect(me).toEqual(config);
      responses.push({ data: { me }, status: 200 });

      // Stored sealed: neither value is readable in the row.
      const row = await storedRow(t, user.id);
      expect(row!.api_key_enc).toMatch(/^v1:/);
      expect(row!.api_key_enc).not.toContain(key.apiKey);
      expect(row!.api_secret_enc).not.toContain(key.apiSecret);
      expect(row!.api_secret_enc).not.toBe(row!.api_key_enc);
    });

    it('keeps the stored key when an update leaves it out, and re-verifies with it', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake);
      expect((await bind(user, key)).data!.setExchangeConfig.isValid).toBe(true);
      const rowBefore = await storedRow(t, user.id);

      const res = await setConfig(t, user, { leverage: 10 });
      responses.push(res);
      expect(res.errors).toBeUndefined();
      expect(res.data!.setExchangeConfig).toMatchObject({ leverage: 10, maxPositionPct: 0.05, isValid: true, apiKeyMasked: maskedForm(key.apiKey) });
      const rowAfter = await storedRow(t, user.id);
      expect(rowAfter!.api_key_enc).toBe(rowBefore!.api_key_enc);
      expect(rowAfter!.api_secret_enc).toBe(rowBefore!.api_secret_enc);
      expect(fake.account(key.apiKey).leverageOf(SYMBOL)).toBe(10);
    });

    it('replaces the key when a new pair is sent, re-encrypting with a fresh nonce', async () => {
      const user = await signUp(t, mail);
      const first = openFakeAccount(fake);
      await bind(user, first);
      const rowBefore = await storedRow(t, user.id);
      const second = openFakeAccount(fake);
      const res = await bind(user, second);
      expect(res.data!.setExchangeConfig).toMatchObject({ isValid: true, apiKeyMasked: maskedForm(second.apiKey) });
      const rowAfter = await storedRow(t, user.id);
      expect(rowAfter!.api_key_enc).not.toBe(rowBefore!.api_key_enc);
      expect(rowAfter!.id).toBe(rowBefore!.id);
    });

    it.each([
      ['withdrawals', { enableWithdrawals: true, ipRestrict: true }, /withdrawals are enabled on this key; create a key without withdrawal permission/, true],
      ['internal transfer', { enableInternalTransfer: true }, /internal transfer is enabled on this key/, false],
      ['universal transfer', { permitsUniversalTransfer: true }, /universal transfer is enabled on this key/, false],
    ])('refuses a key that can move money out (%s), and never trades with it', async (_label, permissions, reason, canWithdraw) => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake, { permissions });
      const res = await bind(user, key);
      expect(res.errors).toBeUndefined();
      const config = res.data!.setExchangeConfig;
      expect(config.isValid).toBe(false);
      expect(config.lastVerifyError).toMatch(reason);
      expect(config.permissions.canWithdraw).toBe(canWithdraw);
      expect(new Date(config.lastVerifiedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
      // Refused before anything was changed on the account.
      expect(fake.requests({ path: '/fapi/v1/leverage', apiKey: key.apiKey })).toHaveLength(0);
      expect((await storedRow(t, user.id))!.is_valid).toBe(false);
    });

    it('refuses a key without futures enabled, telling the user which box to tick', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake, { permissions: { enableFutures: false } });
      const config = (await bind(user, key)).data!.setExchangeConfig;
      expect(config).toMatchObject({ isValid: false, permissions: { canRead: true, canTrade: false, canWithdraw: false } });
      expect(config.lastVerifyError).toMatch(/futures trading is not enabled on this key.*Enable Futures/);
    });

    it('refuses an account in hedge mode, saying how to switch to one-way', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake, { hedgeMode: true });
      const config = (await bind(user, key)).data!.setExchangeConfig;
      expect(config.isValid).toBe(false);
      expect(config.lastVerifyError).toMatch(/hedge mode.*one-way/);
      expect(fake.requests({ path: '/fapi/v1/leverage', apiKey: key.apiKey })).toHaveLength(0);

      // Switched on binance.com: verifying again passes.
      fake.account(key.apiKey).hedgeMode = false;
      const again = await t.gql(VERIFY_CONFIG, {}, user.accessToken);
      responses.push(again);
      expect(again.data!.verifyExchangeConfig).toMatchObject({ ok: true, reason: null, config: { isValid: true, lastVerifyError: null } });
    });

    it('stores an unknown key as invalid with a reason the user can act on', async () => {
      const user = await signUp(t, mail);
      const res = await bind(user, newBinanceKey());
      expect(res.errors).toBeUndefined();
      expect(res.data!.setExchangeConfig.isValid).toBe(false);
      expect(res.data!.setExchangeConfig.lastVerifyError).toMatch(/rejected this API key.*create a new one/);
      expect(res.data!.setExchangeConfig.permissions).toBeNull();
    });

    it('stores a key with the wrong secret as invalid', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake);
      const res = await bind(user, { apiKey: key.apiKey, apiSecret: newBinanceKey().apiSecret });
      expect(res.data!.setExchangeConfig.isValid).toBe(false);
      expect(res.data!.setExchangeConfig.lastVerifyError).toMatch(/secret/i);
    });

    it('answers ok false with a reason, not a server error, when the exchange is down, and keeps the verdict it had', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake);
      expect((await bind(user, key)).data!.setExchangeConfig.isValid).toBe(true);
      await ageVerdict(t, user.id); // a verdict from a minute ago would be answered as it stands

      const fault = fake.injectFault({ kind: 'unavailable', apiKey: key.apiKey, times: Infinity });
      try {
        const res = await t.gql(VERIFY_CONFIG, {}, user.accessToken);
        responses.push(res);
        expect(res.errors).toBeUndefined();
        // An outage says nothing about the key: it stays valid and keeps trading; a key never verified would stay invalid.
        expect(res.data!.verifyExchangeConfig).toMatchObject({ ok: false, config: { isValid: true, lastVerifyError: null } });
        expect(res.data!.verifyExchangeConfig.reason).toMatch(/could not be reached.*try again/);
        expect(fault.hits).toBeGreaterThan(0);
      } finally {
        fault.remove();
      }
      const back = await t.gql(VERIFY_CONFIG, {}, user.accessToken);
      expect(back.data!.verifyExchangeConfig.ok).toBe(true);
    });
  });

  describe('bad input changes nothing', () => {
    let user: SignedInUser;
    let key: BinanceKey;
    let before: Record<string, any> | null;
    let rowBefore: Record<string, any> | undefined;

    beforeAll(async () => {
      user = await signUp(t, mail);
      key = openFakeAccount(fake);
      expect((await bind(user, key)).data!.setExchangeConfig.isValid).toBe(true);
      before = await myConfig(t, user);
      rowBefore = await storedRow(t, user.id);
    });

    const expectUnchanged = async () => {
      expect(await myConfig(t, user)).toEqual(before);
      expect(await storedRow(t, user.id)).toEqual(rowBefore);
    };

    it.each([
      ['leverage 0', { leverage: 0 }, 'leverage'],
      ['leverage -1', { leverage: -1 }, 'leverage'],
      ['leverage 126', { leverage: 126 }, 'leverage'],
      ['maxPositionPct 0', { maxPositionPct: 0 }, 'maxPositionPct'],
      ['maxPositionPct -0.1', { maxPositionPct: -0.1 }, 'maxPositionPct'],
      ['maxPositionPct 5', { maxPositionPct: 5 }, 'maxPositionPct'],
      ['maxPositionPct just above the FREE cap', { maxPositionPct: 0.0500001 }, 'maxPositionPct'],
      ['maxPositionPct too small to store (1e-9)', { maxPositionPct: 1e-9 }, 'maxPositionPct'],
      ['a 63-character key', { apiKey: 'a'.repeat(63), apiSecret: 'b'.repeat(64) }, 'apiKey'],
      ['a key with a dash', { apiKey: `${'a'.repeat(63)}-`, apiSecret: 'b'.repeat(64) }, 'apiKey'],
      ['a 65-character secret', { apiKey: 'a'.repeat(64), apiSecret: 'b'.repeat(65) }, 'apiSecret'],
      ['an empty secret', { apiKey: 'a'.repeat(64), apiSecret: '' }, 'apiSecret'],
      ['a key without its secret', { apiKey: 'a'.repeat(64) }, 'apiSecret'],
      ['a key on a PAPER account', { exchange: 'PAPER', apiKey: 'a'.repeat(64), apiSecret: 'b'.repeat(64) }, 'apiKey'],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_label, input, field) => {
      const res = await setConfig(t, user, input);
      responses.push(res);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].extensions!.field).toBe(field);
      expect(res.data).toBeNull();
      await expectUnchanged();
    });

    it('stores maxPositionPct rounded down to 8 decimals, never above what the user asked', async () => {
      const other = await signUp(t, mail);
      const res = await bind(other, openFakeAccount(fake), { maxPositionPct: 0.0123456789 });
      expect(res.data!.setExchangeConfig.maxPositionPct).toBe(0.01234567);
      expect((await storedRow(t, other.id))!.max_position_pct).toBe('0.01234567');
      const tiny = await setConfig(t, other, { maxPositionPct: 0.00000001 });
      expect(tiny.data!.setExchangeConfig.maxPositionPct).toBe(1e-8);
      expect((await storedRow(t, other.id))!.max_position_pct).toBe('0.00000001');
    });

    it('refuses a fractional leverage (2.5) as BAD_USER_INPUT', async () => {
      const res = await setConfig(t, user, { leverage: 2.5 });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      await expectUnchanged();
    });

    it('caps maxPositionPct by the plan: 0.30 on PRO, not 0.31', async () => {
      const pro = await signUp(t, mail);
      await t.app.services.orm.em.fork().getConnection().execute("update users set subscription = 'PRO' where id = ?", [pro.id]);
      const proKey = openFakeAccount(fake);
      expect(codeOf(await bind(pro, proKey, { maxPositionPct: 0.31 }))).toBe('BAD_USER_INPUT');
      expect(await storedRow(t, pro.id)).toBeUndefined();
      const ok = await bind(pro, proKey, { maxPositionPct: 0.3 });
      expect(ok.data!.setExchangeConfig).toMatchObject({ maxPositionPct: 0.3, isValid: true });
      // The same value is over the FREE user's cap.
      expect(codeOf(await setConfig(t, user, { maxPositionPct: 0.3 }))).toBe('BAD_USER_INPUT');
      await expectUnchanged();
    });

    it('requires key and secret when creating a Binance config', async () => {
      const fresh = await signUp(t, mail);
      const res = await setConfig(t, fresh, { leverage: 2, maxPositionPct: 0.02 });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].extensions!.field).toBe('apiKey');
      expect(await myConfig(t, fresh)).toBeNull();
      expect(await storedRow(t, fresh.id)).toBeUndefined();
    });

    it('refuses a PENDING user (signed in before verifying the email) and stores nothing', async () => {
      const email = uniqueEmail('pending');
      const reg = await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id status } }', { i: { email, password: PASSWORD } });
      expect(reg.data!.register.status).toBe('PENDING');
      const signedIn = await login(t, email);
      expect(signedIn.errors).toBeUndefined();
      const pending = { id: reg.data!.register.id, email, accessToken: signedIn.data!.login.accessToken, refreshToken: '' };
      const pendingKey = openFakeAccount(fake);
      const res = await bind(pending, pendingKey);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.errors![0].message).toMatch(/verify your email/i);
      expect(await storedRow(t, pending.id)).toBeUndefined();
      expect(fake.requests({ apiKey: pendingKey.apiKey })).toHaveLength(0);
    });

    it('answers NOT_FOUND to verify and delete without a config', async () => {
      const fresh = await signUp(t, mail);
      expect(codeOf(await t.gql(VERIFY_CONFIG, {}, fresh.accessToken))).toBe('NOT_FOUND');
      expect(codeOf(await t.gql(DELETE_CONFIG, {}, fresh.accessToken))).toBe('NOT_FOUND');
      expect(await myConfig(t, fresh)).toBeNull();
    });

    it('refuses every operation without a token', async () => {
      expect(codeOf(await t.gql(VERIFY_CONFIG))).toBe('UNAUTHENTICATED');
      expect(codeOf(await t.gql(DELETE_CONFIG))).toBe('UNAUTHENTICATED');
      expect(codeOf(await t.gql('mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { isValid } }', { i: { leverage: 2 } }))).toBe('UNAUTHENTICATED');
      await expectUnchanged();
    });
  });

  describe('cross-user', () => {
    it("never shows or changes another user's config", async () => {
      const a = await signUp(t, mail);
      const b = await signUp(t, mail);
      const keyA = openFakeAccount(fake);
      await bind(a, keyA, { leverage: 4 });
      const aBefore = await myConfig(t, a);
      const aRow = await storedRow(t, a.id);

      // B sees only their own (nothing), and cannot verify or delete A's.
      expect(await myConfig(t, b)).toBeNull();
      expect(codeOf(await t.gql(VERIFY_CONFIG, {}, b.accessToken))).toBe('NOT_FOUND');
      expect(codeOf(await t.gql(DELETE_CONFIG, {}, b.accessToken))).toBe('NOT_FOUND');
      // An update without a key from B is a create for B: it needs B's own key, and never reaches A's.
      expect(codeOf(await setConfig(t, b, { leverage: 9 }))).toBe('BAD_USER_INPUT');
      expect(await myConfig(t, a)).toEqual(aBefore);

      const keyB = openFakeAccount(fake);
      expect((await bind(b, keyB, { leverage: 8 })).data!.setExchangeConfig).toMatchObject({ leverage: 8, apiKeyMasked: maskedForm(keyB.apiKey) });
      expect(await myConfig(t, a)).toEqual(aBefore);
      expect(fake.account(keyA.apiKey).leverageOf(SYMBOL)).toBe(4);

      expect((await t.gql(DELETE_CONFIG, {}, b.accessToken)).data!.deleteExchangeConfig).toBe(true);
      expect(await myConfig(t, b)).toBeNull();
      expect(await storedRow(t, b.id)).toBeUndefined();
      expect(await myConfig(t, a)).toEqual(aBefore);
      expect(await storedRow(t, a.id)).toEqual(aRow);
      // A's key still works after B's delete.
      expect((await t.gql(VERIFY_CONFIG, {}, a.accessToken)).data!.verifyExchangeConfig.ok).toBe(true);
    });

    it('deletes only your own config, and writes it to the audit log without the key', async () => {
      const user = await signUp(t, mail);
      const key = openFakeAccount(fake);
      await bind(user, key);
      expect((await t.gql(DELETE_CONFIG, {}, user.accessToken)).data!.deleteExchangeConfig).toBe(true);
      expect(await myConfig(t, user)).toBeNull();
      const audit = await t.app.services.orm.em.fork().getConnection().execute(
        'select action, detail from audit_logs where user_id = ? order by created_at',
        [user.id],
      );
      const actions = audit.map((r) => (r as { action: string }).action);
      expect(actions).toEqual(expect.arrayContaining(['exchange.set_config', 'exchange.verify', 'exchange.delete_config']));
      expect(JSON.stringify(audit)).not.toContain(key.apiKey);
      expect(JSON.stringify(audit)).not.toContain(key.apiSecret);
    });
  });

  // Last: every response and log line above is in by now.
  it('never put a secret or a full API key in any response or log line', () => {
    expect(keysUsed.length).toBeGreaterThan(10);
    const bodies = JSON.stringify(responses);
    const logs = t.logs.text();
    expect(logs.length).toBeGreaterThan(0);
    for (const key of keysUsed) {
      expect(bodies).not.toContain(key.apiSecret);
      expect(bodies).not.toContain(key.apiKey);
      expect(logs).not.toContain(key.apiSecret);
      expect(logs).not.toContain(key.apiKey);
    }
    expect(logs).not.toMatch(/signature=[0-9a-f]{64}/);
  });
});
