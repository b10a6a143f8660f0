import { randomBytes } from 'node:crypto';
import { formatRotationSummary, KeyRotationUsageError, runKeyRotation } from '../../src/cli/rotate-keys';
import { masterKeyId } from '../../src/services/key-cipher';
import { KeyReverificationJob } from '../../src/services/key-reverification.job';
import { eventuallyExpect } from '../support/eventually';
import { FakeBinance } from '../support/fake-binance';
import { signUp, type SignedInUser } from '../support/factories';
import { decodeQuotedPrintable, MailCapture } from '../support/mail-capture';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  ageVerdict, binanceEnv, maskedForm, myConfig, openFakeAccount, setConfig, storedRow, VERIFY_CONFIG, type BinanceKey,
} from './exchange-config-kit';

const STOPPED_SUBJECT = 'Your exchange API key stopped working';

describe('exchange keys over their lifetime', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  let smtp: string;

  beforeAll(async () => {
    await fake.start();
    smtp = await mail.start();
  });
  afterAll(async () => {
    await fake.stop();
    await mail.stop();
  });

  const bind = async (t: TestApp, user: SignedInUser, key: BinanceKey) => {
    const res = await setConfig(t, user, { ...key, leverage: 2, maxPositionPct: 0.05 });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.setExchangeConfig;
  };
  const verify = async (t: TestApp, user: SignedInUser) => {
    const res = await t.gql(VERIFY_CONFIG, {}, user.accessToken);
    expect(res.errors).toBeUndefined();
    return res.data!.verifyExchangeConfig as { ok: boolean; reason: string | null; config: Record<string, any> };
  };
  // Quoted-printable escapes the UTF-8 bytes of the mask's "…": the shared decoder reads them back.
  const mailsTo = (email: string) => mail.messages.filter((m) => m.to.includes(email)).map((m) => decodeQuotedPrintable(m.raw));
  const sql = (t: TestApp, query: string, params: unknown[]) => t.app.services.orm.em.fork().getConnection().execute(query, params);

  describe('on one server', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp({ env: binanceEnv(fake, smtp) });
    });
    afterAll(async () => t.stop());

    it('daily re-verification marks a key revoked after binding invalid and mails its owner once', async () => {
      const revoked = await signUp(t, mail);
      const healthy = await signUp(t, mail);
      const revokedKey = openFakeAccount(fake);
      const healthyKey = openFakeAccount(fake);
      expect((await bind(t, revoked, revokedKey)).isValid).toBe(true);
      expect((await bind(t, healthy, healthyKey)).isValid).toBe(true);
      const verifiedBefore = new Date((await myConfig(t, healthy))!.lastVerifiedAt).getTime();

      fake.revokeKey(revokedKey.apiKey);
      const result = await t.app.services.keyReverification.run();
      expect(result).toEqual({ checked: 2, newlyInvalid: 1, unreachable: 0, timedOut: 0 });

      const config = (await myConfig(t, revoked))!;
      expect(config.isValid).toBe(false);
      expect(config.lastVerifyError).toMatch(/rejected this API key/);
      const healthyNow = (await myConfig(t, healthy))!;
      expect(healthyNow.isValid).toBe(true);
      expect(new Date(healthyNow.lastVerifiedAt).getTime()).toBeGreaterThanOrEqual(verifiedBefore);

      await mail.waitFor(revoked.email, /Subject: (Your exchange API key stopped working)/);
      const [notice] = mailsTo(revoked.email).filter((m) => m.includes(STOPPED_SUBJECT));
      expect(notice).toContain(maskedForm(revokedKey.apiKey));
      expect(notice).toContain('rejected this API key');
      expect(notice).not.toContain(revokedKey.apiKey);
      expect(notice).not.toContain(revokedKey.apiSecret);
      expect(mailsTo(healthy.email).some((m) => m.includes(STOPPED_SUBJECT))).toBe(false);
      const html = mail.to(revoked.email).find((m) => m.subject === STOPPED_SUBJECT)!.html;
      expect(html).toContain(`<code>${maskedForm(revokedKey.apiKey)}</code>`);
      expect(html).not.toContain(revokedKey.apiKey);
      // Audited once, as the daily check's doing (no actor), with the masked key and the reason.
      const turned = await sql(t, "select actor_id, detail from audit_logs where user_id = ? and action = 'exchange.key_invalid'", [revoked.id]);
      expect(turned).toEqual([{ actor_id: null, detail: expect.stringMatching(/^daily check: .*rejected this API key/) }]);

      // Still revoked the next day: no second mail.
      expect(await t.app.services.keyReverification.run()).toEqual({ checked: 2, newlyInvalid: 0, unreachable: 0, timedOut: 0 });
      expect(mailsTo(revoked.email).filter((m) => m.includes(STOPPED_SUBJECT))).toHaveLength(1);

      // Restored on binance.com: the next run makes it valid again.
      fake.restoreKey(revokedKey.apiKey);
      await t.app.services.keyReverification.run();
      expect((await myConfig(t, revoked))!.isValid).toBe(true);

      const logs = t.logs.text();
      for (const key of [revokedKey, healthyKey]) {
        expect(logs).not.toContain(key.apiKey);
        expect(logs).not.toContain(key.apiSecret);
      }
    });

    it('keeps every verdict, and mails nobody, when the exchange is down during the daily run', async () => {
      const user = await signUp(t, mail);
      expect((await bind(t, user, openFakeAccount(fake))).isValid).toBe(true);
      const before = await myConfig(t, user);
      const mailsBefore = mail.messages.length;

      const outage = fake.injectFault({ kind: 'unavailable', times: Infinity });
      try {
        const result = await t.app.services.keyReverification.run();
        expect(result.newlyInvalid).toBe(0);
        expect(result.unreachable).toBe(result.checked);
        expect(result.checked).toBeGreaterThanOrEqual(3);
        expect(outage.hits).toBeGreaterThanOrEqual(result.checked);
      } finally {
        outage.remove();
      }
      expect(await myConfig(t, user)).toEqual(before);
      expect(mail.messages.length).toBe(mailsBefore);
      // Asked by the user, the same outage is an answer (not verified now, and why), and the key's verdict stands.
      await ageVerdict(t, user.id);
      const down = fake.injectFault({ kind: 'unavailable', times: Infinity });
      try {
        const asked = await verify(t, user);
        expect(asked).toMatchObject({ ok: false, config: { isValid: true } });
        expect(asked.reason).toMatch(/could not be reached/);
      } finally {
        down.remove();
      }
    });

    it("a tampered ciphertext fails only that user's config, with a reason", async () => {
      const victim = await signUp(t, mail);
      const other = await signUp(t, mail);
      await bind(t, victim, openFakeAccount(fake));
      await bind(t, other, openFakeAccount(fake));

      const row = (await storedRow(t, victim.id))!;
      const [prefix, keyId, body] = (row.api_secret_enc as string).split(':');
      const bytes = Buffer.from(body, 'base64');
      bytes[bytes.length - 1] ^= 0x01; // one bit of the ciphertext
      await sql(t, 'update user_exchange_configs set api_secret_enc = ? where user_id = ?', [`${prefix}:${keyId}:${bytes.toString('base64')}`, victim.id]);

      const failed = await verify(t, victim);
      expect(failed).toMatchObject({ ok: false, config: { isValid: false } });
      expect(failed.reason).toMatch(/stored API key could not be read; set the API key and secret again/);
      expect((await verify(t, other)).ok).toBe(true);
      expect(t.logs.text()).toContain('stored exchange credentials could not be decrypted');
    });

    it("a ciphertext moved onto another user's row fails for that user; the owner's still verifies", async () => {
      const owner = await signUp(t, mail);
      const thief = await signUp(t, mail);
      const ownerKey = openFakeAccount(fake);
      await bind(t, owner, ownerKey);
      await bind(t, thief, openFakeAccount(fake));

      await sql(
        t,
        `update user_exchange_configs set (api_key_enc, api_secret_enc) =
           (select api_key_enc, api_secret_enc from user_exchange_configs where user_id = ?) where user_id = ?`,
        [owner.id, thief.id],
      );
      const ownerRequestsBefore = fake.requests({ apiKey: ownerKey.apiKey }).length;
      const moved = await verify(t, thief);
      expect(moved).toMatchObject({ ok: false, config: { isValid: false } });
      expect(moved.reason).toMatch(/could not be read/);
      // The thief's verification never reached the exchange with the owner's key.
      expect(fake.requests({ apiKey: ownerKey.apiKey })).toHaveLength(ownerRequestsBefore);
      await ageVerdict(t, owner.id); // asked afresh, not answered from the verdict of a moment ago
      expect((await verify(t, owner)).ok).toBe(true);
      expect(fake.requests({ apiKey: ownerKey.apiKey }).length).toBeGreaterThan(ownerRequestsBefore);
    });

    it("one hanging account holds up nobody: the daily run gives up on it at its time limit, keeps its verdict, and still mails a revoked key's owner", async () => {
      const stuck = await signUp(t, mail);
      const revoked = await signUp(t, mail);
      const stuckKey = openFakeAccount(fake);
      const revokedKey = openFakeAccount(fake);
      expect((await bind(t, stuck, stuckKey)).isValid).toBe(true);
      expect((await bind(t, revoked, revokedKey)).isValid).toBe(true);
      const stuckBefore = await myConfig(t, stuck);
      fake.revokeKey(revokedKey.apiKey);
      // The stuck account's exchange takes every request and never answers (each call ends only at the client's own timeout).
      const hang = fake.injectFault({ kind: 'hang', apiKey: stuckKey.apiKey, times: Infinity });
      const { orm, exchangeConfigs, audit, notifier, logger } = t.app.services;
      const job = new KeyReverificationJob({ orm, exchangeConfigs, audit, notifier, logger: logger.child({ module: 'key-reverify' }), userTimeLimitMs: 1_000 });
      const stuckGaveUp = () =>
        t.logs.lines.some((l) => l.includes(stuck.id) && l.includes('exchange unreachable while verifying a key; stored verdict kept'));
      try {
        const result = await job.run();
        expect(result).toMatchObject({ newlyInvalid: 1, timedOut: 1 });
        // Given up on, not waited for: its request to the exchange was sent and never answered.
        expect(hang.hits).toBeGreaterThanOrEqual(1);
        const timedOut = t.logs.lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'key re-verification of one account timed out; verdict kept');
        expect(timedOut).toEqual([expect.objectContaining({ userId: stuck.id, limitMs: 1_000 })]);
        // Meanwhile the revoked key was judged and its owner told.
        expect((await myConfig(t, revoked))!).toMatchObject({ isValid: false, lastVerifyError: expect.stringMatching(/rejected this API key/) });
        await mail.waitFor(revoked.email, /Subject: (Your exchange API key stopped working)/);
        // The stuck check ends by itself at the client's timeout: an exchange that does not answer is no verdict.
        await eventuallyExpect(() => expect(stuckGaveUp()).toBe(true));
      } finally {
        hang.remove();
      }
      expect(await myConfig(t, stuck)).toEqual(stuckBefore);
      expect(mailsTo(stuck.email).some((m) => m.includes(STOPPED_SUBJECT))).toBe(false);
    });

    it('does not re-verify PAPER configs in the daily job', async () => {
      const paper = await signUp(t, mail);
      expect((await setConfig(t, paper, { exchange: 'PAPER', leverage: 1, maxPositionPct: 0.01 })).data!.setExchangeConfig.isValid).toBe(true);
      const { checked } = await t.app.services.keyReverification.run();
      const [{ n }] = await sql(t, "select count(*)::int as n from user_exchange_configs where exchange = 'BINANCE'", []);
      expect(checked).toBe(n);
    });
  });

  it('requires an IP-restricted key when REQUIRE_IP_WHITELIST=true', async () => {
    const t = await startTestApp({ env: { ...binanceEnv(fake, smtp), REQUIRE_IP_WHITELIST: 'true' } });
    try {
      const open = await signUp(t, mail);
      const restricted = await signUp(t, mail);
      const refused = await bind(t, open, openFakeAccount(fake, { permissions: { ipRestrict: false } }));
      expect(refused).toMatchObject({ isValid: false, permissions: { ipRestricted: false } });
      expect(refused.lastVerifyError).toMatch(/not restricted to trusted IPs/);
      expect(await bind(t, restricted, openFakeAccount(fake, { permissions: { ipRestrict: true } }))).toMatchObject({
        isValid: true, lastVerifyError: null, permissions: { ipRestricted: true },
      });
    } finally {
      await t.stop();
    }
  });

  describe('master key rotation', () => {
    const keyA = randomBytes(32).toString('base64');
    const keyB = randomBytes(32).toString('base64');
    let db: TestDatabase;
    const apps: TestApp[] = [];
    const start = async (env: Record<string, string>) => {
      const t = await startTestApp({ database: db, env: { ...binanceEnv(fake, smtp), ...env } });
      apps.push(t);
      return t;
    };
    const cliEnv = (env: Record<string, string>) => ({ DATABASE_URL: db.url, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', ...env });

    beforeAll(async () => {
      db = await createTestDatabase('keyrot');
    });
    afterAll(async () => {
      for (const t of apps) await t.stop();
      await db.drop();
    });

    it('refuses to run without MASTER_KEY_PREVIOUS, or with the same key twice, before touching anything', async () => {
      await expect(runKeyRotation(cliEnv({ MASTER_KEY: keyB }))).rejects.toThrow(KeyRotationUsageError);
      await expect(runKeyRotation(cliEnv({ MASTER_KEY: keyB }))).rejects.toThrow(/MASTER_KEY_PREVIOUS is not set/);
      await expect(runKeyRotation(cliEnv({ MASTER_KEY: keyA, MASTER_KEY_PREVIOUS: keyA }))).rejects.toThrow(/same key/);
    });

    it('re-encrypts every stored key under the new master key; reads work under either key meanwhile', async () => {
      // Bound under key A.
      const nodeA = await start({ MASTER_KEY: keyA });
      const early = await signUp(nodeA, mail);
      const earlyKey = openFakeAccount(fake);
      expect((await bind(nodeA, early, earlyKey)).isValid).toBe(true);
      const paper = await signUp(nodeA, mail);
      expect((await setConfig(nodeA, paper, { exchange: 'PAPER', leverage: 1, maxPositionPct: 0.02 })).errors).toBeUndefined();
      await nodeA.stop();

      // Rolling out: a node with B (and A as previous) reads A's rows and seals new ones under B.
      const nodeBA = await start({ MASTER_KEY: keyB, MASTER_KEY_PREVIOUS: keyA });
      expect((await verify(nodeBA, early)).ok).toBe(true);
      const late = await signUp(nodeBA, mail);
      expect((await bind(nodeBA, late, openFakeAccount(fake))).isValid).toBe(true);
      const idA = masterKeyId(Buffer.from(keyA, 'base64'));
      const idB = masterKeyId(Buffer.from(keyB, 'base64'));
      expect((await storedRow(nodeBA, early.id))!.api_key_enc).toContain(`:${idA}:`);
      expect((await storedRow(nodeBA, late.id))!.api_secret_enc).toContain(`:${idB}:`);

      const result = await runKeyRotation(cliEnv({ MASTER_KEY: keyB, MASTER_KEY_PREVIOUS: keyA }));
      expect(result).toMatchObject({ rotated: 1, stored: 2, failed: 0, skipped: 0 });
      expect(formatRotationSummary(result)).toBe('rotated 1 of 2 stored keys (0 failed, 0 skipped)');
      const earlyRow = (await storedRow(nodeBA, early.id))!;
      expect(earlyRow.api_key_enc).toContain(`:${idB}:`);
      expect(earlyRow.api_secret_enc).toContain(`:${idB}:`);
      expect(earlyRow.api_secret_enc).not.toContain(earlyKey.apiSecret);
      // The node still holding both keys reads the rotated rows too.
      expect((await verify(nodeBA, early)).ok).toBe(true);

      // Running it again finds nothing left under A.
      expect(await runKeyRotation(cliEnv({ MASTER_KEY: keyB, MASTER_KEY_PREVIOUS: keyA }))).toMatchObject({ rotated: 0, stored: 2, failed: 0 });

      // Key A retired: a node with only B verifies everyone.
      const nodeB = await start({ MASTER_KEY: keyB });
      expect(await verify(nodeB, early)).toMatchObject({ ok: true, config: { apiKeyMasked: maskedForm(earlyKey.apiKey) } });
      expect((await verify(nodeB, late)).ok).toBe(true);
      for (const t of apps) {
        expect(t.logs.text()).not.toContain(earlyKey.apiSecret);
        expect(t.logs.text()).not.toContain(earlyKey.apiKey);
      }
    });
  });
});
