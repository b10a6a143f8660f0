import { FakeBinance } from '../support/fake-binance';
import { signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { connectSocket, type SocketClient } from '../support/graphql-client';
import { MailCapture, type CapturedMail } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import { binanceEnv, binanceKey, createBinanceUsers, storedConfig, waitFor, type FleetUser } from './support/binance-fleet';

const ADMIN = { email: 'key-ops@example.com', password: 'key ops password 123' };
const STOPPED = 'Your exchange API key stopped working';
const REJECTED = /Binance rejected the API key/;
const BROADCAST = `mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) {
  total placed skipped failed results { userId status reason } } }`;
const ME = '{ me { exchangeConfig { isValid lastVerifyError apiKeyMasked } auditLog(first: 50) { action actorId userId detail } } }';
const ADMIN_AUDIT = 'query($u: ID) { auditLog(userId: $u, first: 100) { action actorId userId detail ip } }';
const RESULTS = 'subscription { executionResult { userId status reason } }';

type Result = { userId: string; status: 'PLACED' | 'SKIPPED' | 'FAILED'; reason: string | null };
type AuditRow = { action: string; actorId: string | null; userId: string | null; detail: string | null; ip?: string | null };
/** A person who signed up and bound a key through the API, as the app is used: they read their own mail and audit log. */
type Trader = SignedInUser & { apiKey: string; apiSecret: string; masked: string };

describe('a key the exchange stops honouring while the platform trades with it', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  const sockets: SocketClient[] = [];
  let t: TestApp;
  let admin: SignedInUser;
  let bystanders: FleetUser[];

  const broadcast = async (action: string) => {
    const res = await t.gql(BROADCAST, { i: { action, strength: 1 } }, admin.accessToken);
    expect(res.errors).toBeUndefined();
    const report = res.data!.broadcastSignal as { results: Result[] };
    return new Map(report.results.map((r) => [r.userId, r]));
  };
  const sql = (query: string, params: unknown[] = []) => t.app.services.orm.em.fork().getConnection().execute(query, params);
  /** No mail waiting or being sent: what was going to be mailed has been. */
  const mailQueueEmpty = async () =>
    (await sql("select count(*)::int as n from graphile_worker.jobs where task_identifier = 'notifications.send-mail'"))[0].n === 0;
  const stoppedMails = (email: string) => mail.to(email).filter((m) => m.subject === STOPPED);
  const adminAudit = async (userId: string) => {
    const res = await t.gql(ADMIN_AUDIT, { u: userId }, admin.accessToken);
    expect(res.errors).toBeUndefined();
    return res.data!.auditLog as AuditRow[];
  };
  const me = async (user: SignedInUser) => {
    const res = await t.gql(ME, {}, user.accessToken);
    expect(res.errors).toBeUndefined();
    return res.data!.me as { exchangeConfig: { isValid: boolean; lastVerifyError: string | null; apiKeyMasked: string }; auditLog: AuditRow[] };
  };

  async function trader(): Promise<Trader> {
    const person = await signUp(t, mail);
    const key = { apiKey: binanceKey(), apiSecret: binanceKey() };
    fake.addAccount({ ...key, balance: 10_000 });
    const res = await t.gql(
      'mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { isValid apiKeyMasked } }',
      { i: { exchange: 'BINANCE', ...key, leverage: 5, maxPositionPct: 0.05 } },
      person.accessToken,
    );
    expect(res.data!.setExchangeConfig.isValid).toBe(true);
    return { ...person, ...key, masked: res.data!.setExchangeConfig.apiKeyMasked };
  }

  /** The mail's both parts say what happened, where it was noticed, which key (masked) and why; never the key itself. */
  function expectKeyMail(m: CapturedMail, who: Trader, detectedBy: string) {
    expect(m.raw).toMatch(/Content-Type: multipart\/alternative/i);
    expect(m.text).toContain(`${detectedBy} your Binance API key ${who.masked}`);
    expect(m.text).toMatch(REJECTED);
    expect(m.html).toMatch(/^<!doctype html>/i);
    expect(m.html).toContain(`<code>${who.masked}</code>`);
    expect(m.html).toMatch(REJECTED);
    for (const secret of [who.apiKey, who.apiSecret]) expect(m.raw + m.text + m.html).not.toContain(secret);
  }

  /** Exactly one turned-invalid row, written by the platform (no actor, no request IP), seen alike by the admin and the owner. */
  async function expectOneKeyInvalidRow(who: Trader, source: RegExp) {
    const expected = { action: 'exchange.key_invalid', actorId: null, userId: who.id, detail: expect.stringMatching(source) };
    const rows = (await adminAudit(who.id)).filter((r) => r.action === 'exchange.key_invalid');
    expect(rows).toEqual([{ ...expected, ip: null }]);
    expect(rows[0].detail).toMatch(REJECTED);
    const own = (await me(who)).auditLog.filter((r) => r.action === 'exchange.key_invalid');
    expect(own).toEqual([expected]);
  }

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({
      env: { ...binanceEnv(fake), SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_USER_TIMEOUT_MS: '5000' },
    });
    // The market feed is off in tests: the price book gets the fake exchange's mark price by hand.
    t.app.services.prices.set('BTCUSDT', fake.price('BTCUSDT').toString());
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    bystanders = await createBinanceUsers(t, fake, 3, { tag: 'bystander' });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await t.stop();
    await fake.stop();
    await mail.stop();
  });

  it('revoked before a signal: that user FAILED with the reason, the key switched off with it, audited, mailed in both parts, the event sent; nobody else touched', async () => {
    const victim = await trader();
    const socket = connectSocket(t.url, victim.accessToken);
    sockets.push(socket);
    await socket.connected;
    const events = socket.subscribe<{ executionResult: Result }>(RESULTS);

    fake.revokeKey(victim.apiKey);
    const results = await broadcast('OPEN_LONG');

    expect(results.get(victim.id)).toEqual({ userId: victim.id, status: 'FAILED', reason: expect.stringMatching(REJECTED) });
    expect(fake.account(victim.apiKey).orders).toEqual([]);
    for (const other of bystanders) expect(results.get(other.id)).toMatchObject({ status: 'PLACED', reason: null });

    const config = (await me(victim)).exchangeConfig;
    expect(config).toEqual({ isValid: false, lastVerifyError: expect.stringMatching(REJECTED), apiKeyMasked: victim.masked });
    await expectOneKeyInvalidRow(victim, /^fan out: /);

    const notice = await mail.waitForMail(victim.email, (m) => m.subject === STOPPED);
    expectKeyMail(notice, victim, 'While placing an order for you,');

    // The owner's live view hears of the failure and why.
    await waitFor(() => events.events.some((e) => e.executionResult.userId === victim.id), "the victim's execution result");
    expect(events.events.map((e) => e.executionResult)).toEqual([{ userId: victim.id, status: 'FAILED', reason: expect.stringMatching(REJECTED) }]);
    expect(events.errors).toEqual([]);

    // Nobody else's key was touched, audited or mailed about.
    for (const other of bystanders) {
      expect(await storedConfig(t, other.id)).toMatchObject({ isValid: true, lastVerifyError: null });
      expect((await adminAudit(other.id)).map((r) => r.action)).not.toContain('exchange.key_invalid');
      expect(stoppedMails(other.email)).toEqual([]);
    }
  });

  it('revoked between signals: the reconciliation pass switches it off, audits it and mails its owner; the others are read as usual', async () => {
    const victim = await trader();
    const healthy = await trader();
    fake.revokeKey(victim.apiKey);

    const logged = t.logs.lines.length;
    const summary = await t.app.services.reconciler.reconcileAll();
    // Only the revoked account failed, and for its key (any other account's error is shown here if not).
    const failed = t.logs.lines
      .slice(logged)
      .map((line) => JSON.parse(line) as { msg: string; userId?: string; err?: string })
      .filter((line) => line.msg === 'reconciling one account failed')
      .map(({ userId, err }) => ({ userId, err }));
    expect(failed).toEqual([{ userId: victim.id, err: expect.stringMatching(REJECTED) }]);
    expect(summary.failures).toBe(1);

    const config = (await me(victim)).exchangeConfig;
    expect(config).toEqual({ isValid: false, lastVerifyError: expect.stringMatching(REJECTED), apiKeyMasked: victim.masked });
    await expectOneKeyInvalidRow(victim, /^reconciler: /);
    expectKeyMail(await mail.waitForMail(victim.email, (m) => m.subject === STOPPED), victim, 'While checking your account against the exchange,');

    expect((await me(healthy)).exchangeConfig).toMatchObject({ isValid: true, lastVerifyError: null });
    for (const other of [healthy, ...bystanders]) expect((await adminAudit(other.id)).map((r) => r.action)).not.toContain('exchange.key_invalid');

    // The fan-out heard of it: the next signal passes the account by instead of trying the dead key.
    const next = await broadcast('OPEN_LONG');
    expect(next.get(victim.id)).toEqual({ userId: victim.id, status: 'SKIPPED', reason: expect.stringMatching(/^exchange key not valid: Binance rejected the API key/) });
    expect(fake.requests({ method: 'POST', path: '/fapi/v1/order', apiKey: victim.apiKey })).toEqual([]);
  });

  it('tells the owner once: the next signal, the next reconciliation pass and the daily check neither audit nor mail it again', async () => {
    const victim = await trader();
    fake.revokeKey(victim.apiKey);
    expect((await broadcast('OPEN_LONG')).get(victim.id)).toMatchObject({ status: 'FAILED' });
    await mail.waitForMail(victim.email, (m) => m.subject === STOPPED);

    expect((await broadcast('OPEN_LONG')).get(victim.id)).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^exchange key not valid/) });
    await t.app.services.reconciler.reconcileAll();
    expect((await t.app.services.keyReverification.run()).newlyInvalid).toBe(0);
    // Reported again for a key already off (by the fan-out and the reconciler at once): still the one notice.
    await Promise.all([
      t.app.services.exchangeConfigs.keyRefused(victim.id, 'Binance rejected the API key (again)', 'FAN_OUT'),
      t.app.services.exchangeConfigs.keyRefused(victim.id, 'Binance rejected the API key (again)', 'RECONCILER'),
    ]);

    await waitFor(mailQueueEmpty, 'the mail queue to drain');
    expect(stoppedMails(victim.email)).toHaveLength(1);
    const rows = (await adminAudit(victim.id)).filter((r) => r.action === 'exchange.key_invalid');
    expect(rows).toHaveLength(1);
    expect(rows[0].detail).toMatch(/^fan out: /);
    expect((await me(victim)).exchangeConfig.isValid).toBe(false);
  });

  it('two refusals racing for a key that was valid turn it off once: one audit row, one mail', async () => {
    const victim = await trader();
    fake.revokeKey(victim.apiKey);
    await Promise.all([
      t.app.services.exchangeConfigs.keyRefused(victim.id, 'Binance rejected the API key (seen by the fan-out)', 'FAN_OUT'),
      t.app.services.exchangeConfigs.keyRefused(victim.id, 'Binance rejected the API key (seen by the reconciler)', 'RECONCILER'),
      t.app.services.exchangeConfigs.keyRefused(victim.id, 'Binance rejected the API key (seen by the stream)', 'USER_STREAM'),
    ]);
    await mail.waitForMail(victim.email, (m) => m.subject === STOPPED);
    await waitFor(mailQueueEmpty, 'the mail queue to drain');
    expect(stoppedMails(victim.email)).toHaveLength(1);
    const rows = (await adminAudit(victim.id)).filter((r) => r.action === 'exchange.key_invalid');
    expect(rows).toHaveLength(1);
    // The verdict stored is the one that won, and its row says the same.
    const config = (await me(victim)).exchangeConfig;
    expect(config.isValid).toBe(false);
    expect(rows[0].detail).toContain(config.lastVerifyError);
  });

  it('never switches a key off without its audit row: when the row cannot be written the key stays on, and the next refusal does both', async () => {
    const victim = await trader();
    fake.revokeKey(victim.apiKey);
    // The audit table refuses this user's turned-invalid row once, as a database that fails mid-way would.
    await sql(`create or replace function refuse_key_invalid_once() returns trigger language plpgsql as $$
      begin
        if new.action = 'exchange.key_invalid' and new.user_id = '${victim.id}' and not exists (select 1 from refused_once) then
          insert into refused_once values (1);
          raise exception 'audit row refused once';
        end if;
        return new;
      end $$`);
    await sql('create table if not exists refused_once (n int)');
    await sql('create trigger refuse_key_invalid_once before insert on audit_logs for each row execute function refuse_key_invalid_once()');
    try {
      expect((await broadcast('OPEN_LONG')).get(victim.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(REJECTED) });
      // Not silently off: the verdict did not commit without its row, and nobody was mailed about a change that did not happen.
      expect((await me(victim)).exchangeConfig).toMatchObject({ isValid: true });
      expect((await adminAudit(victim.id)).map((r) => r.action)).not.toContain('exchange.key_invalid');
      await waitFor(mailQueueEmpty, 'the mail queue to drain');
      expect(stoppedMails(victim.email)).toEqual([]);
      expect(t.logs.text()).toContain('a refused key could not be switched off; the next refusal tries again');
    } finally {
      await sql('drop trigger refuse_key_invalid_once on audit_logs');
    }

    await t.app.services.reconciler.reconcileAll();
    expect((await me(victim)).exchangeConfig).toMatchObject({ isValid: false, lastVerifyError: expect.stringMatching(REJECTED) });
    await expectOneKeyInvalidRow(victim, /^reconciler: /);
    await mail.waitForMail(victim.email, (m) => m.subject === STOPPED);
  });

  it('never switches a key off without queuing its mail: when the queue refuses the job the key stays on, and the next refusal does all three', async () => {
    const victim = await trader();
    fake.revokeKey(victim.apiKey);
    // The job queue refuses its next mail job once, as a database that fails mid-way would (a sequence survives the rollback).
    await sql('create sequence if not exists queue_refusals');
    await sql(`create or replace function refuse_job_once() returns trigger language plpgsql as $$
      begin
        if (select identifier from graphile_worker._private_tasks where id = new.task_id) = 'notifications.send-mail'
           and nextval('queue_refusals') = 1 then
          raise exception 'job refused once';
        end if;
        return new;
      end $$`);
    await sql('create trigger refuse_job_once before insert on graphile_worker._private_jobs for each row execute function refuse_job_once()');
    try {
      expect((await broadcast('OPEN_LONG')).get(victim.id)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(REJECTED) });
      await waitFor(async () => (await sql('select last_value::int as n, is_called from queue_refusals'))[0].is_called === true, 'the queue to refuse the mail');
      await waitFor(() => t.logs.text().includes('a refused key could not be switched off; the next refusal tries again'), 'the switch-off to be given up');
      // Not switched off without its mail: the owner would never learn why trading stopped.
      expect((await me(victim)).exchangeConfig).toMatchObject({ isValid: true });
      expect((await adminAudit(victim.id)).map((r) => r.action)).not.toContain('exchange.key_invalid');
    } finally {
      await sql('drop trigger refuse_job_once on graphile_worker._private_jobs');
    }

    await t.app.services.reconciler.reconcileAll();
    expect((await me(victim)).exchangeConfig).toMatchObject({ isValid: false, lastVerifyError: expect.stringMatching(REJECTED) });
    await expectOneKeyInvalidRow(victim, /^reconciler: /);
    await mail.waitForMail(victim.email, (m) => m.subject === STOPPED);
    await waitFor(mailQueueEmpty, 'the mail queue to drain');
    expect(stoppedMails(victim.email)).toHaveLength(1);
  });
});
