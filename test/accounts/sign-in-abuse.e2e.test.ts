import { gqlFrom, loginFrom, randomLoopback } from '../support/client-address';
import { codeOf } from '../support/graphql-client';
import { PASSWORD, signInAdmin, signUp, uniqueEmail } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'abuse-admin@example.com', password: 'abuse admin password' };
// Low enough that stuffing is quick to show; the per-account rule is the PRD's fixed 5.
const NETWORK_LIMIT = 8;

describe('sign-in abuse', () => {
  let t: TestApp;
  const mail = new MailCapture();
  const sql = (query: string, params: unknown[] = []) =>
    t.app.services.orm.em.fork().getConnection().execute(query, params) as Promise<Array<Record<string, any>>>;
  const auditOf = (userId: string) => sql('select action, detail, ip from audit_logs where user_id = ? order by created_at, id', [userId]);

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        SMTP_URL: await mail.start(),
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        AUTH_NETWORK_FAILURE_LIMIT: String(NETWORK_LIMIT),
      },
    });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it("locks the account for strangers after 5 failures while its owner still signs in from a network they used before", async () => {
    const owner = await signUp(t, mail);
    const home = randomLoopback();
    expect((await loginFrom(t.url, home, owner.email, PASSWORD)).errors).toBeUndefined();

    const attacker = randomLoopback();
    for (let i = 1; i <= 5; i++) expect(codeOf(await loginFrom(t.url, attacker, owner.email, `guess number ${i}`))).toBe('UNAUTHENTICATED');
    const locked = await loginFrom(t.url, attacker, owner.email, PASSWORD);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
    expect(locked.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(800);
    // A third network is a stranger too: the lock holds there, right password or not.
    expect(codeOf(await loginFrom(t.url, randomLoopback(), owner.email, PASSWORD))).toBe('RATE_LIMITED');

    const atHome = await loginFrom(t.url, home, owner.email, PASSWORD);
    expect(atHome.errors).toBeUndefined();
    expect(atHome.data!.login.user.id).toBe(owner.id);

    const audit = await auditOf(owner.id);
    expect(audit.filter((r) => r.action === 'auth.login_failed' && r.ip === attacker)).toHaveLength(5);
    expect(audit.filter((r) => r.action === 'auth.login_locked')).toEqual([expect.objectContaining({ ip: attacker, detail: expect.stringMatching(/locked for 15 minutes/) })]);
    expect(audit.filter((r) => r.action === 'auth.login_rate_limited')).not.toHaveLength(0);
    expect(audit.filter((r) => r.action === 'auth.login' && r.ip === home)).toHaveLength(2);
  });

  it('also locks a known network after 5 failures from it, without touching the owner elsewhere', async () => {
    const owner = await signUp(t, mail);
    const office = randomLoopback();
    const phone = randomLoopback();
    for (const ip of [office, phone]) expect((await loginFrom(t.url, ip, owner.email, PASSWORD)).errors).toBeUndefined();
    for (let i = 1; i <= 5; i++) expect(codeOf(await loginFrom(t.url, office, owner.email, `typo ${i} xxxx`))).toBe('UNAUTHENTICATED');
    expect(codeOf(await loginFrom(t.url, office, owner.email, PASSWORD))).toBe('RATE_LIMITED');
    expect((await loginFrom(t.url, phone, owner.email, PASSWORD)).errors).toBeUndefined();
  });

  it('tries exactly five guesses when attempts race at the fifth failure', async () => {
    const victim = await signUp(t, mail);
    const attacker = randomLoopback();
    for (let i = 1; i <= 4; i++) expect(codeOf(await loginFrom(t.url, attacker, victim.email, `guess ${i} xxxx`))).toBe('UNAUTHENTICATED');
    const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => loginFrom(t.url, attacker, victim.email, `race ${i} xxxx`)));
    expect(racing.filter((r) => codeOf(r) === 'UNAUTHENTICATED')).toHaveLength(1);
    expect(racing.filter((r) => codeOf(r) === 'RATE_LIMITED')).toHaveLength(5);
    const audit = await auditOf(victim.id);
    expect(audit.filter((r) => r.action === 'auth.login_failed')).toHaveLength(5);
    expect(audit.filter((r) => r.action === 'auth.login_locked')).toHaveLength(1);
  });

  it('counts a look-alike spelling of the email as the same account', async () => {
    const victim = await signUp(t, mail);
    const [local, domain] = victim.email.split('@');
    const spellings = [
      victim.email.toUpperCase(),
      ` ${victim.email}\u3000`,
      `${[...local].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('')}@${domain}`, // full-width letters
      `${local}＠${domain}`,
      victim.email,
    ];
    const attacker = randomLoopback();
    for (const spelling of spellings) expect(codeOf(await loginFrom(t.url, attacker, spelling, 'not the password'))).toBe('UNAUTHENTICATED');
    expect(codeOf(await loginFrom(t.url, attacker, spellings[2], PASSWORD))).toBe('RATE_LIMITED');
  });

  it('holds a network that stuffs credentials across many accounts, but not the accounts that know it', async () => {
    const regular = await signUp(t, mail);
    const stranger = await signUp(t, mail);
    const shared = randomLoopback(); // one office NAT: a regular user and an attacker behind it
    expect((await loginFrom(t.url, shared, regular.email, PASSWORD)).errors).toBeUndefined();

    // Alias batching buys nothing: the first failed login stops the document, and it counts.
    const batched = await gqlFrom(
      t.url,
      shared,
      `mutation { ${Array.from({ length: 10 }, (_, i) => `a${i}: login(email: "${uniqueEmail('stuffed')}", password: "leaked pw ${i}") { accessToken }`).join(' ')} }`,
    );
    expect(batched.errors).toHaveLength(1);
    for (let i = 1; i < NETWORK_LIMIT; i++) {
      expect(codeOf(await loginFrom(t.url, shared, uniqueEmail('stuffed'), `leaked pw ${i}`))).toBe('UNAUTHENTICATED');
    }
    const held = await loginFrom(t.url, shared, uniqueEmail('stuffed'), 'leaked pw x');
    expect(codeOf(held)).toBe('RATE_LIMITED');
    expect(held.errors![0].message).toMatch(/from your network/);
    // Even a right password for an account that never signed in from here is held…
    expect(codeOf(await loginFrom(t.url, shared, stranger.email, PASSWORD))).toBe('RATE_LIMITED');
    // …while one that did passes, and the stranger still signs in from anywhere else.
    expect((await loginFrom(t.url, shared, regular.email, PASSWORD)).errors).toBeUndefined();
    expect((await loginFrom(t.url, randomLoopback(), stranger.email, PASSWORD)).errors).toBeUndefined();
    const locks = await sql("select ip from audit_logs where action = 'auth.login_locked' and ip = ? and user_id is null", [shared]);
    expect(locks).toHaveLength(1);
  });

  it('answers a suspended or banned account exactly like a wrong password, and counts both alike', async () => {
    const admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    for (const mutation of ['suspendUser', 'banUser']) {
      const user = await signUp(t, mail);
      expect((await t.gql(`mutation($id: ID!) { ${mutation}(id: $id) { status } }`, { id: user.id }, admin.accessToken)).errors).toBeUndefined();
      const from = randomLoopback();
      const right = await loginFrom(t.url, from, user.email, PASSWORD);
      const wrong = await loginFrom(t.url, from, user.email, 'not the password');
      expect(right.status).toBe(wrong.status);
      expect(right.errors).toEqual(wrong.errors);
      expect(codeOf(right)).toBe('UNAUTHENTICATED');
      for (let i = 0; i < 3; i++) await loginFrom(t.url, from, user.email, PASSWORD);
      // Five attempts, two of them right: locked the same as five wrong ones.
      expect(codeOf(await loginFrom(t.url, from, user.email, PASSWORD))).toBe('RATE_LIMITED');
      const audit = await auditOf(user.id);
      expect(audit.filter((r) => r.action === 'auth.login_refused')).toHaveLength(4);
      expect(audit.find((r) => r.action === 'auth.login_refused')!.detail).toMatch(/suspended|banned/);
      expect(audit.filter((r) => r.action === 'auth.login_failed')).toHaveLength(1);
    }
  });

  it('mails the owner once when they sign in from a network the account has not used', async () => {
    const user = await signUp(t, mail); // verified from 127.0.0.1: the first known network
    const before = mail.messages.filter((m) => m.to.includes(user.email)).length;
    expect((await loginFrom(t.url, '127.0.0.1', user.email, PASSWORD)).errors).toBeUndefined();
    const travel = randomLoopback();
    const [first, second] = await Promise.all([loginFrom(t.url, travel, user.email, PASSWORD), loginFrom(t.url, travel, user.email, PASSWORD)]);
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();
    const text = await mail.waitFor(user.email, /(signed in to at .+ from the address \S+)/);
    expect(text).toContain(travel);
    expect((await loginFrom(t.url, travel, user.email, PASSWORD)).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.messages.filter((m) => m.to.includes(user.email)).length).toBe(before + 1);
    const audit = await auditOf(user.id);
    expect(audit.filter((r) => r.action === 'auth.login' && r.detail === 'from a network not used before')).toEqual([expect.objectContaining({ ip: travel })]);
  });

  it('limits current-password guesses in changePassword per user and per network', async () => {
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    const thief = randomLoopback();
    const a = await signUp(t, mail);
    for (let i = 1; i <= 5; i++) expect(codeOf(await gqlFrom(t.url, thief, CHANGE, { c: `guess ${i} xxxx`, n: 'a new good passphrase' }, a.accessToken))).toBe('BAD_USER_INPUT');
    // The right current password from anywhere is held now: the session may be in a thief's hands.
    expect(codeOf(await gqlFrom(t.url, randomLoopback(), CHANGE, { c: PASSWORD, n: 'a new good passphrase' }, a.accessToken))).toBe('RATE_LIMITED');
    expect((await loginFrom(t.url, randomLoopback(), a.email, PASSWORD)).errors).toBeUndefined(); // password unchanged

    const others = [await signUp(t, mail), await signUp(t, mail)];
    for (let i = 0; i < NETWORK_LIMIT - 5; i++) {
      expect(codeOf(await gqlFrom(t.url, thief, CHANGE, { c: `guess ${i} yyyy`, n: 'a new good passphrase' }, others[i % 2].accessToken))).toBe('BAD_USER_INPUT');
    }
    const held = await gqlFrom(t.url, thief, CHANGE, { c: PASSWORD, n: 'a new good passphrase' }, others[1].accessToken);
    expect(codeOf(held)).toBe('RATE_LIMITED');
    expect(held.errors![0].message).toMatch(/from your network/);
    expect((await gqlFrom(t.url, randomLoopback(), CHANGE, { c: PASSWORD, n: 'a new good passphrase' }, others[1].accessToken)).data!.changePassword).toBe(true);

    const audit = await auditOf(a.id);
    expect(audit.filter((r) => r.action === 'auth.change_password_failed')).toHaveLength(5);
    expect(audit.filter((r) => r.action === 'auth.change_password_locked')).toHaveLength(1);
    expect(audit.filter((r) => r.action === 'auth.change_password_rate_limited')).toHaveLength(1);
  });

  it('never writes a password into the audit log or the log', async () => {
    const rows = await sql("select detail from audit_logs where action like 'auth.%'");
    const text = JSON.stringify(rows) + t.logs.text();
    for (const secret of [PASSWORD, 'not the password', 'leaked pw', 'guess 1 xxxx']) expect(text).not.toContain(secret);
  });
});
