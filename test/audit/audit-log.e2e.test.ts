import { Client } from 'pg';
import { codeOf } from '../support/graphql-client';
import { login, PASSWORD, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'audit-admin@example.com', password: 'audit admin password' };
const OWN = 'query($f: Int) { me { auditLog(first: $f) { id userId actorId action detail ip createdAt } } }';
type Row = { action: string; actor_id: string | null; detail: string | null; ip: string | null };

describe('the audit log', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;

  const rowsOf = async (userId: string) =>
    (await t.app.services.orm.em.fork().getConnection().execute('select action, actor_id, detail, ip from audit_logs where user_id = ? order by created_at', [userId])) as Row[];

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself, whoever asks', async () => {
    const user = await signUp(t, mail);
    const db = new Client({ connectionString: t.app.services.config.DATABASE_URL });
    await db.connect();
    try {
      const before = (await db.query('select count(*)::int as n from audit_logs')).rows[0].n;
      await expect(db.query("update audit_logs set detail = 'rewritten' where user_id = $1", [user.id])).rejects.toThrow(/append-only: UPDATE refused/);
      await expect(db.query('delete from audit_logs where user_id = $1', [user.id])).rejects.toThrow(/append-only: DELETE refused/);
      await expect(db.query('truncate audit_logs')).rejects.toThrow(/append-only: TRUNCATE refused/);
      expect((await db.query('select count(*)::int as n from audit_logs')).rows[0].n).toBe(before);
      await db.query("insert into audit_logs (id, action, created_at) values (gen_random_uuid(), 'test.append', now())");
      expect((await db.query('select count(*)::int as n from audit_logs')).rows[0].n).toBe(before + 1);
    } finally {
      await db.end();
    }
  });

  it('writes a row with actor, subject and client IP for every sensitive action of an account, and never a secret', async () => {
    const user = await signUp(t, mail);
    const setPaper = await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 2, maxPositionPct: 0.05 }) { isValid } }', {}, user.accessToken);
    expect(setPaper.data!.setExchangeConfig.isValid).toBe(true);
    await t.gql('mutation { verifyExchangeConfig { ok } }', {}, user.accessToken);
    await t.gql('mutation { deleteExchangeConfig }', {}, user.accessToken);
    await t.gql('mutation { changePlan(plan: BASIC) { subscription } }', {}, user.accessToken);
    const newPassword = 'another fine passphrase';
    await t.gql('mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }', { c: PASSWORD, n: newPassword }, user.accessToken);
    const session = (await login(t, user.email, newPassword)).data!.login;
    await t.gql('mutation { logout }', {}, session.accessToken);

    const rows = await rowsOf(user.id);
    const byAction = (action: string) => rows.find((r) => r.action === action);
    for (const action of [
      'user.register', 'user.verify_email', 'exchange.set_config', 'exchange.verify', 'exchange.delete_config',
      'user.change_plan', 'auth.change_password', 'auth.logout',
    ]) {
      const row = byAction(action);
      expect(row).toBeDefined();
      expect(row!.ip).toMatch(/127\.0\.0\.1/);
      expect(row!.actor_id).toBe(user.id);
    }
    expect(byAction('user.change_plan')!.detail).toBe('plan FREE → BASIC');
    const text = JSON.stringify(rows);
    for (const secret of [PASSWORD, newPassword, user.accessToken, user.refreshToken, session.accessToken, session.refreshToken]) expect(text).not.toContain(secret);
  });

  it('shows the user their own security history through me.auditLog, newest first, and nothing of anyone else', async () => {
    const alice = await signUp(t, mail, uniqueEmail('alice'));
    const bob = await signUp(t, mail, uniqueEmail('bob'));
    await login(t, alice.email, 'not the password at all');
    await t.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { r: alice.refreshToken });
    await t.gql('mutation { changePlan(plan: PRO) { subscription } }', {}, bob.accessToken);
    await t.gql('query($id: ID!) { user(id: $id) { user { id } } }', { id: alice.id }, admin.accessToken);

    const mine = (await t.gql(OWN, {}, alice.accessToken)).data!.me.auditLog as Array<Record<string, string | null>>;
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(mine.every((e) => e.userId === alice.id)).toBe(true);
    const actions = mine.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.register', 'user.verify_email', 'auth.login_failed']));
    // Not history: every token refresh; not the user's business: an admin looking at the account.
    expect(actions).not.toContain('auth.refresh');
    expect(actions).not.toContain('admin.view_user');
    const times = mine.map((e) => new Date(e.createdAt!).getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(JSON.stringify(mine)).not.toContain(bob.id);
    expect(JSON.stringify(mine)).not.toContain('user.change_plan');

    // Bob sees his own plan change and nothing of Alice's failed sign-in.
    const his = (await t.gql(OWN, {}, bob.accessToken)).data!.me.auditLog as Array<{ action: string; userId: string }>;
    expect(his.map((e) => e.action)).toContain('user.change_plan');
    expect(his.every((e) => e.userId === bob.id)).toBe(true);
    expect(JSON.stringify(his)).not.toContain(alice.id);
  });

  it('pages me.auditLog with a bounded first and refuses it signed out', async () => {
    const user = await signUp(t, mail);
    expect((await t.gql(OWN, { f: 1 }, user.accessToken)).data!.me.auditLog).toHaveLength(1);
    expect(codeOf(await t.gql(OWN, { f: 0 }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(OWN, { f: 10_000 }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(OWN, {}))).toBe('UNAUTHENTICATED');
  });

  it('gives the admin every row, newest first, with who acted', async () => {
    const user = await signUp(t, mail);
    await t.gql('mutation($id: ID!) { banUser(id: $id, reason: "fraud") { status } }', { id: user.id }, admin.accessToken);
    const res = await t.gql('query($u: ID) { auditLog(userId: $u, first: 2) { action actorId userId detail } }', { u: user.id }, admin.accessToken);
    expect(res.data!.auditLog[0]).toEqual({ action: 'admin.ban_user', actorId: admin.id, userId: user.id, detail: 'fraud' });
    expect(res.data!.auditLog).toHaveLength(2);
    const all = await t.gql('{ auditLog(first: 200) { userId } }', {}, admin.accessToken);
    expect(new Set(all.data!.auditLog.map((e: { userId: string | null }) => e.userId)).size).toBeGreaterThan(2);
  });
});
