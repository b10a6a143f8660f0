import { AuditLog } from '../../src/entities/audit-log.entity';
import { Role, SubscriptionPlan } from '../../src/entities/enums';
import { codeOf } from '../support/graphql-client';
import { PASSWORD, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { decodeQuotedPrintable, MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import { DAY, MovableClock } from './billing-e2e-kit';

const ADMIN = { email: 'plans-admin@example.com', password: 'plans admin password' };
const CHANGE = 'mutation($p: SubscriptionPlan!) { changePlan(plan: $p) { subscription trialEndsAt } }';
const CONFIG = 'mutation($i: ExchangeConfigInput!) { setExchangeConfig(input: $i) { maxPositionPct } }';
const ME = '{ me { user { subscription trialEndsAt status } exchangeConfig { maxPositionPct } } }';
const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { results { userId status reason } } }';

/** Plans through the API: applied at once, a downgrade clamps the position cap, the FREE trial ends, every change audited and mailed. */
describe('plans', () => {
  const mail = new MailCapture();
  const clock = new MovableClock();
  let t: TestApp;
  let admin: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    t.app.services.prices.set('BTCUSDT', '50000');
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  const me = async (user: SignedInUser) => (await t.gql(ME, {}, user.accessToken)).data!.me;
  const history = (userId: string) =>
    t.app.services.orm.em.fork().execute(`select plan from user_plan_history where user_id = ? order by started_at, created_at`, [userId]);

  it('an upgrade lifts the cap at once; a downgrade lowers the stored maxPositionPct to the new cap at once, audited and mailed', async () => {
    const user = await signUp(t, mail);
    await t.gql(CONFIG, { i: { exchange: 'PAPER', leverage: 2, maxPositionPct: 0.05 } }, user.accessToken);
    expect(codeOf(await t.gql(CONFIG, { i: { exchange: 'PAPER', maxPositionPct: 0.3 } }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect((await t.gql(CHANGE, { p: 'PRO' }, user.accessToken)).data!.changePlan.subscription).toBe('PRO');
    expect((await t.gql(CONFIG, { i: { exchange: 'PAPER', maxPositionPct: 0.3 } }, user.accessToken)).data!.setExchangeConfig.maxPositionPct).toBe(0.3);

    const trialEndsAt = (await me(user)).user.trialEndsAt;
    expect((await t.gql(CHANGE, { p: 'BASIC' }, user.accessToken)).data!.changePlan.subscription).toBe('BASIC');
    expect((await me(user)).exchangeConfig).toEqual({ maxPositionPct: 0.15 });
    expect((await t.gql(CHANGE, { p: 'FREE' }, user.accessToken)).data!.changePlan).toEqual({ subscription: 'FREE', trialEndsAt });
    expect((await me(user)).exchangeConfig).toEqual({ maxPositionPct: 0.05 });
    // The same plan again changes nothing.
    expect((await t.gql(CHANGE, { p: 'FREE' }, user.accessToken)).data!.changePlan.subscription).toBe('FREE');

    expect(await history(user.id)).toEqual([{ plan: 'FREE' }, { plan: 'PRO' }, { plan: 'BASIC' }, { plan: 'FREE' }]);
    const audit = await t.app.services.orm.em.fork().find(AuditLog, { userId: user.id, action: 'user.change_plan' }, { orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.detail)).toEqual([
      'plan FREE → PRO',
      "plan PRO → BASIC; maxPositionPct lowered from 0.3 to the plan's cap 0.15",
      "plan BASIC → FREE; maxPositionPct lowered from 0.15 to the plan's cap 0.05",
    ]);
    await mail.waitFor(user.email, /Your plan changed to FREE/);
    const raw = decodeQuotedPrintable(mail.messages.find((m) => m.to.includes(user.email) && /Your plan changed to FREE/.test(m.raw))!.raw);
    expect(raw).toMatch(/Content-Type: text\/plain/);
    expect(raw).toMatch(/Content-Type: text\/html/);
    expect(raw).toContain('lowered from 0.15 to 0.05');
  });

  it('a FREE user trades for 7 days after verifying, then OPENs skip them with "trial ended" until they choose a paid plan', async () => {
    const user = await signUp(t, mail);
    await t.gql(CONFIG, { i: { exchange: 'PAPER', leverage: 2, maxPositionPct: 0.05 } }, user.accessToken);
    const trialEnd = new Date((await me(user)).user.trialEndsAt);
    expect(Math.round((trialEnd.getTime() - Date.now()) / DAY)).toBe(7);
    const outcome = async () => ((await t.gql(BROADCAST, { a: 'OPEN_LONG' }, admin.accessToken)).data!.broadcastSignal.results as Array<{ userId: string; status: string; reason: string }>).find((r) => r.userId === user.id)!;
    clock.set(new Date(trialEnd.getTime() - 3600_000));
    try {
      expect((await outcome()).status).toBe('PLACED');
      await t.gql(BROADCAST, { a: 'CLOSE' }, admin.accessToken);
      clock.set(new Date(trialEnd.getTime() + 60_000));
      expect(await outcome()).toMatchObject({ status: 'SKIPPED', reason: expect.stringMatching(/^free trial ended on \d{4}-\d\d-\d\d; choose a paid plan/) });
      await t.gql(CHANGE, { p: 'BASIC' }, user.accessToken);
      expect((await outcome()).status).toBe('PLACED');
      // Back on FREE the trial is still over: one trial per account.
      await t.gql(BROADCAST, { a: 'CLOSE' }, admin.accessToken);
      await t.gql(CHANGE, { p: 'FREE' }, user.accessToken);
      expect((await outcome()).status).toBe('SKIPPED');
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('an admin activating an unverified account starts its trial', async () => {
    const email = uniqueEmail('activated');
    const reg = await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id trialEndsAt } }', { i: { email, password: PASSWORD } });
    expect(reg.data!.register.trialEndsAt).toBeNull();
    const res = await t.gql('mutation($id: ID!) { activateUser(id: $id) { status trialEndsAt } }', { id: reg.data!.register.id }, admin.accessToken);
    expect(res.data!.activateUser.status).toBe('ACTIVE');
    expect(Math.round((new Date(res.data!.activateUser.trialEndsAt).getTime() - Date.now()) / DAY)).toBe(7);
  });

  it('refuses an unknown plan, an unverified account and a flood of changes, and changes nothing', async () => {
    const user = await signUp(t, mail);
    expect(codeOf(await t.gql(CHANGE, { p: 'GOLD' }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql('mutation { changePlan(plan: GOLD) { subscription } }', {}, user.accessToken))).toBe('BAD_USER_INPUT');
    const scope = { em: t.app.services.orm.em.fork(), actor: { id: user.id, role: Role.USER, sessionId: 's', expiresAt: new Date(Date.now() + DAY) }, ip: null };
    await expect(t.app.services.billing.plans.changePlan(scope, 'GOLD' as SubscriptionPlan)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await me(user)).user.subscription).toBe('FREE');
    expect(await history(user.id)).toEqual([]);

    const pendingEmail = uniqueEmail('pending');
    await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email: pendingEmail, password: PASSWORD } });
    const login = await t.gql('mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: pendingEmail, p: PASSWORD });
    expect(codeOf(await t.gql(CHANGE, { p: 'PRO' }, login.data!.login.accessToken))).toBe('BAD_USER_INPUT');

    // Ten changes an hour, then RATE_LIMITED before anything is written.
    const plans = ['PRO', 'BASIC'];
    for (let i = 0; i < 10; i++) expect((await t.gql(CHANGE, { p: plans[i % 2] }, user.accessToken)).errors).toBeUndefined();
    const refused = await t.gql(CHANGE, { p: 'FREE' }, user.accessToken);
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect((await me(user)).user.subscription).toBe('BASIC');
    expect(await history(user.id)).toHaveLength(11);
  });

  it('two changes at once apply one after the other: the history ends on the plan the account is on', async () => {
    const user = await signUp(t, mail);
    const [a, b] = await Promise.all([t.gql(CHANGE, { p: 'PRO' }, user.accessToken), t.gql(CHANGE, { p: 'BASIC' }, user.accessToken)]);
    expect([a.errors, b.errors]).toEqual([undefined, undefined]);
    const rows = await history(user.id);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({ plan: 'FREE' });
    expect(rows[2].plan).toBe((await me(user)).user.subscription);
  });
});
