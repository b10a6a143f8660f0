import { UserRiskState } from '../../src/entities/user-risk-state.entity';
import { INVOICE_JOB, SETTLEMENT_JOB } from '../../src/jobs/app-jobs';
import { addUser } from '../billing/billing-kit';
import { binanceEnv, binanceKey } from '../execution-e2e/support/binance-fleet';
import { gqlFrom, randomLoopback } from '../support/client-address';
import { eventually } from '../support/eventually';
import { FakeBinance } from '../support/fake-binance';
import { PASSWORD, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'audit-actions-admin@example.com', password: 'audit actions admin password' };
const OWN = '{ me { auditLog(first: 100) { action actorId userId detail ip } } }';
const SET_CONFIG = 'mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { isValid apiKeyMasked } }';
type Row = { action: string; user_id: string | null; actor_id: string | null; detail: string | null; ip: string | null };
type OwnRow = { action: string; actorId: string | null; userId: string | null; detail: string | null; ip: string | null };

/**
 * The audit rows of the actions the issue lists that the account tests do not
 * reach: an admin's broadcast, a key's settings changed, a verification mail
 * asked again, a risk lock lifted by the calendar, and the billing runs the
 * scheduler starts (no actor, no address) beside the same runs asked by an
 * admin (their actor and address). Each request comes from its own loopback
 * address, so the row's IP is proven to be the requester's.
 */
describe('audit rows of admin, system and scheduled actions', () => {
  const fake = new FakeBinance();
  const mail = new MailCapture();
  let t: TestApp;
  let admin: SignedInUser;

  const rows = async (where: string, params: unknown[] = []) =>
    (await t.app.services.orm.em.fork().getConnection().execute(
      `select action, user_id, actor_id, detail, ip from audit_logs where ${where} order by created_at, id`,
      params,
    )) as Row[];
  const own = async (user: SignedInUser) => {
    const res = await t.gql(OWN, {}, user.accessToken);
    expect(res.errors).toBeUndefined();
    return res.data!.me.auditLog as OwnRow[];
  };

  beforeAll(async () => {
    await fake.start();
    t = await startTestApp({ env: { ...binanceEnv(fake), SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    t.app.services.prices.set('BTCUSDT', fake.price('BTCUSDT').toString());
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
    await mail.stop();
  });

  it('admin.broadcast_signal: the admin as actor, no subject user, the signal in words and the admin\'s address', async () => {
    const from = randomLoopback();
    const res = await gqlFrom(t.url, from, 'mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) { signal { id } } }', {
      i: { action: 'OPEN_LONG', strength: 0.5, reason: 'audit check', idempotencyKey: 'audit-broadcast-1' },
    }, admin.accessToken);
    expect(res.errors).toBeUndefined();
    expect(await rows("action = 'admin.broadcast_signal'")).toEqual([
      { action: 'admin.broadcast_signal', user_id: null, actor_id: admin.id, detail: 'OPEN_LONG BTCUSDT strength 0.5: audit check (key audit-broadcast-1)', ip: from },
    ]);
  });

  it('exchange.update_config: the owner as actor and subject, the new settings and only the masked form of a new key, the owner\'s address; shown in me.auditLog', async () => {
    const user = await signUp(t, mail);
    const first = { apiKey: binanceKey(), apiSecret: binanceKey() };
    const second = { apiKey: binanceKey(), apiSecret: binanceKey() };
    fake.addAccount({ ...first, balance: 1_000 });
    fake.addAccount({ ...second, balance: 1_000 });
    const bind = await gqlFrom(t.url, randomLoopback(), SET_CONFIG, { i: { exchange: 'BINANCE', ...first, leverage: 2, maxPositionPct: 0.05 } }, user.accessToken);
    expect(bind.data!.setExchangeConfig.isValid).toBe(true);

    const settingsFrom = randomLoopback();
    expect((await gqlFrom(t.url, settingsFrom, SET_CONFIG, { i: { leverage: 3, maxPositionPct: 0.02 } }, user.accessToken)).errors).toBeUndefined();
    const keyFrom = randomLoopback();
    const rekey = await gqlFrom(t.url, keyFrom, SET_CONFIG, { i: { ...second } }, user.accessToken);
    expect(rekey.data!.setExchangeConfig.isValid).toBe(true);
    const masked = rekey.data!.setExchangeConfig.apiKeyMasked as string;

    const updates = await rows("action = 'exchange.update_config' and user_id = ?", [user.id]);
    expect(updates).toEqual([
      { action: 'exchange.update_config', user_id: user.id, actor_id: user.id, detail: 'BINANCE leverage 3 maxPositionPct 0.02', ip: settingsFrom },
      { action: 'exchange.update_config', user_id: user.id, actor_id: user.id, detail: `BINANCE leverage 3 maxPositionPct 0.02 (new key ${masked})`, ip: keyFrom },
    ]);
    // The first binding is a set, not an update.
    expect((await rows("action = 'exchange.set_config' and user_id = ?", [user.id])).map((r) => r.action)).toEqual(['exchange.set_config']);
    const everything = JSON.stringify(await rows('user_id = ?', [user.id]));
    for (const secret of [first.apiKey, first.apiSecret, second.apiKey, second.apiSecret]) expect(everything).not.toContain(secret);

    const mine = (await own(user)).filter((r) => r.action === 'exchange.update_config');
    expect(mine.map((r) => [r.actorId, r.ip])).toEqual([[user.id, keyFrom], [user.id, settingsFrom]]);
  });

  it('user.resend_verification: the account as subject, the asker\'s address, what was done (and a row for an unknown address, naming nobody)', async () => {
    const email = uniqueEmail('resend-audit');
    const reg = await gqlFrom(t.url, randomLoopback(), 'mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password: PASSWORD } });
    const userId = reg.data!.register.id as string;
    const askedFrom = randomLoopback();
    const resend = 'mutation($e: String!) { resendVerification(email: $e) }';
    expect((await gqlFrom(t.url, askedFrom, resend, { e: email.toUpperCase() })).data!.resendVerification).toBe(true);
    expect(await rows("action = 'user.resend_verification' and user_id = ?", [userId])).toEqual([
      { action: 'user.resend_verification', user_id: userId, actor_id: null, detail: 'verification mail sent', ip: askedFrom },
    ]);

    const ghost = uniqueEmail('ghost');
    const ghostFrom = randomLoopback();
    expect((await gqlFrom(t.url, ghostFrom, resend, { e: ghost })).data!.resendVerification).toBe(true);
    const [unknown] = await rows("action = 'user.resend_verification' and ip = ?", [ghostFrom]);
    expect(unknown).toEqual({ action: 'user.resend_verification', user_id: null, actor_id: null, detail: 'not sent: no account with this email', ip: ghostFrom });
  });

  it('risk.lifted: a daily lock from yesterday lifted by the scheduler\'s job, by nobody and from nowhere, in the owner\'s me.auditLog', async () => {
    const user = await signUp(t, mail);
    const em = t.app.services.orm.em.fork();
    const startOfToday = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
    const yesterday = new Date(startOfToday.getTime() - 86_400_000);
    // Yesterday's figures as the loss left them: 10,000 at the day's start, 9,400 since (6 % down, over the 5 % limit).
    em.create(UserRiskState, {
      user: user.id, equityHighWater: '10000', lastEquity: '9400', dayStart: yesterday, dayStartEquity: '10000', dailyLoss: '600',
      weekStart: null, weekStartEquity: null, currentDrawdown: '0.06',
      isLocked: true, lockKind: 'DAILY_LOSS', lockedReason: 'daily loss 6% reached the limit of 5%', lockedAt: new Date(startOfToday.getTime() - 3_600_000),
    });
    await em.flush();

    await t.app.services.jobs.trigger('risk-lock-lifts');
    const [lifted] = await eventually('the lift job to lift the lock', async () => {
      const found = await rows("action = 'risk.lifted' and user_id = ?", [user.id]);
      return found.length > 0 && found;
    });
    expect(lifted).toEqual({ action: 'risk.lifted', user_id: user.id, actor_id: null, detail: 'daily loss lock lifted: a new UTC day began', ip: null });
    expect((await own(user)).filter((r) => r.action === 'risk.lifted')).toEqual([
      { action: 'risk.lifted', actorId: null, userId: user.id, detail: 'daily loss lock lifted: a new UTC day began', ip: null },
    ]);
    const me = (await t.gql('{ me { risk { isLocked lockedReason } riskEvents(first: 1) { kind reason } } }', {}, user.accessToken)).data!.me;
    expect(me.risk).toEqual({ isLocked: false, lockedReason: null });
    expect(me.riskEvents).toEqual([{ kind: 'LIFTED', reason: 'daily loss lock lifted: a new UTC day began' }]);
  });

  it('billing runs: the scheduler\'s settlement and invoice runs have no actor and no address; an admin\'s have theirs', async () => {
    // The runs every start makes (the scheduler's own) are on record already.
    const startUp = await eventually('the start-up billing runs to be audited', async () => {
      const found = await rows("action in ('billing.settlement_run', 'billing.issue_invoices')");
      return found.length >= 2 && found;
    });
    for (const row of startUp) expect(row).toMatchObject({ user_id: null, actor_id: null, ip: null });
    expect(startUp.map((r) => r.action).sort()).toEqual(['billing.issue_invoices', 'billing.settlement_run']);

    // The scheduler's invoice run with something to invoice: a BASIC customer since before last month, whose month is due again.
    const customer = await addUser(t.app.services.orm, { plan: 'BASIC', createdAt: '2020-01-01T00:00' });
    await t.app.services.orm.em.fork().getConnection().execute("delete from billing_closings where kind = 'MONTH'");
    await t.app.services.jobs.trigger(INVOICE_JOB);
    const issued = await eventually('the scheduled invoice run', async () => {
      const found = await rows("action = 'billing.issue_invoices' and detail like '%: 1 invoices issued'");
      return found.length > 0 && found;
    });
    expect(issued).toEqual([{ action: 'billing.issue_invoices', user_id: null, actor_id: null, detail: expect.stringMatching(/^\w+ \d{4}: 1 invoices issued$/), ip: null }]);
    const [{ n }] = await t.app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from invoices where user_id = ?', [customer]);
    expect(n).toBe(1);

    const settlementsBefore = (await rows("action = 'billing.settlement_run'")).length;
    await t.app.services.jobs.trigger(SETTLEMENT_JOB);
    const settled = await eventually('the scheduled settlement run', async () => {
      const found = await rows("action = 'billing.settlement_run'");
      return found.length > settlementsBefore && found;
    });
    expect(settled[settled.length - 1]).toEqual({
      action: 'billing.settlement_run', user_id: null, actor_id: null, detail: expect.stringMatching(/^days \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: \d+ user-days settled/), ip: null,
    });

    // The same runs asked by an admin carry the admin and the admin's address.
    const from = randomLoopback();
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    expect((await gqlFrom(t.url, from, 'mutation($d: DateTime!) { settleProfits(date: $d) }', { d: `${yesterday}T00:00:00Z` }, admin.accessToken)).errors).toBeUndefined();
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1)).toISOString();
    expect((await gqlFrom(t.url, from, 'mutation($m: DateTime!) { issueInvoices(month: $m) }', { m: lastMonth }, admin.accessToken)).errors).toBeUndefined();
    expect(await rows("action in ('admin.settle_profits', 'admin.issue_invoices')")).toEqual([
      { action: 'admin.settle_profits', user_id: null, actor_id: admin.id, detail: expect.any(String), ip: from },
      { action: 'admin.issue_invoices', user_id: null, actor_id: admin.id, detail: expect.stringMatching(/: 0 invoices issued$/), ip: from },
    ]);
  });
});
