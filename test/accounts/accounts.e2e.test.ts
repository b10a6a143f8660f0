import { MailCapture } from '../support/mail-capture';
import { codeOf } from '../support/graphql-client';
import { login, PASSWORD, signUp, uniqueEmail } from '../support/factories';
import { startTestApp, type TestApp } from '../support/test-app';

const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { id email status role subscription trialEndsAt } }';
const ME = '{ me { user { id email status subscription trialEndsAt } } }';

describe('accounts over GraphQL', () => {
  let t: TestApp;
  const mail = new MailCapture();

  beforeAll(async () => {
    const smtp = await mail.start();
    t = await startTestApp({ env: { SMTP_URL: smtp, PUBLIC_URL: 'https://app.example.com' } });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('registers a PENDING user with a normalised email and mails a single-use link built from PUBLIC_URL', async () => {
    const email = uniqueEmail('Reg');
    const res = await t.gql(REGISTER, { i: { email: `  ${email.toUpperCase()} `, password: PASSWORD } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.register).toMatchObject({ email: email.toLowerCase(), status: 'PENDING', role: 'USER', trialEndsAt: null });
    const link = await mail.waitFor(email.toLowerCase(), /(https:\/\/app\.example\.com\/verify-email\?token=[A-Za-z0-9_-]+)/);
    const token = new URL(link).searchParams.get('token')!;

    const verified = await t.gql('mutation($t: String!) { verifyEmail(token: $t) { accessToken user { status subscription trialEndsAt } } }', { t: token });
    expect(verified.errors).toBeUndefined();
    const user = verified.data!.verifyEmail.user;
    expect(user.status).toBe('ACTIVE');
    expect(user.subscription).toBe('FREE');
    const trialDays = (new Date(user.trialEndsAt).getTime() - Date.now()) / 86_400_000;
    expect(trialDays).toBeGreaterThan(6.99);
    expect(trialDays).toBeLessThanOrEqual(7);

    const again = await t.gql('mutation($t: String!) { verifyEmail(token: $t) { accessToken } }', { t: token });
    expect(codeOf(again)).toBe('BAD_USER_INPUT');
  });

  it.each([
    ['not an email', { email: 'nope', password: PASSWORD }],
    ['a short password', { email: uniqueEmail(), password: 'short7!' }],
    ['a password over 128 characters', { email: uniqueEmail(), password: 'é'.repeat(129) }],
    ['a breached password', { email: uniqueEmail(), password: 'Password123' }],
    ['the email as the password', { email: 'someone.long@example.com', password: 'Someone.Long@example.com' }],
  ])('refuses %s with BAD_USER_INPUT and creates nothing', async (_label, input) => {
    const res = await t.gql(REGISTER, { i: input });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    const count = await t.app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from users where email = ?', [input.email.toLowerCase()]);
    expect(count[0].n).toBe(0);
  });

  it('creates exactly one user when the same email registers concurrently', async () => {
    const email = uniqueEmail('race');
    const results = await Promise.all(Array.from({ length: 5 }, () => t.gql(REGISTER, { i: { email, password: PASSWORD } })));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'CONFLICT')).toHaveLength(4);
    const rows = await t.app.services.orm.em.fork().getConnection().execute('select count(*)::int as n from users where email = ?', [email]);
    expect(rows[0].n).toBe(1);
  });

  it('answers an unknown email and a wrong password the same way', async () => {
    const user = await signUp(t, mail);
    const wrong = await login(t, user.email, 'wrong password!');
    const unknown = await login(t, uniqueEmail('ghost'), 'wrong password!');
    expect(codeOf(wrong)).toBe('UNAUTHENTICATED');
    expect(codeOf(unknown)).toBe('UNAUTHENTICATED');
    expect(wrong.errors![0].message).toBe(unknown.errors![0].message);
  });

  it('lets a PENDING user sign in, still PENDING and without a trial, until the email is verified', async () => {
    const email = uniqueEmail('pending');
    await t.gql(REGISTER, { i: { email, password: PASSWORD } });
    const res = await login(t, email);
    expect(res.data!.login.user).toMatchObject({ status: 'PENDING', trialEndsAt: null });
  });

  it('locks an account after five failures, even against the right password, and counts alias-batched attempts one by one', async () => {
    const user = await signUp(t, mail);
    const batched = await t.gql(
      `mutation($e: String!) { a: login(email: $e, password: "bad-1xxxx") { accessToken } b: login(email: $e, password: "bad-2xxxx") { accessToken } c: login(email: $e, password: "bad-3xxxx") { accessToken } }`,
      { e: user.email },
    );
    // Root mutation fields run in order and a failed non-null field stops the rest: each executed attempt counts.
    expect(batched.errors).toHaveLength(1);
    for (const attempt of [2, 3, 4, 5]) expect(codeOf(await login(t, user.email, `bad-${attempt}xxxx`))).toBe('UNAUTHENTICATED');
    const locked = await login(t, user.email, PASSWORD);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
  });

  it('rotates refresh tokens and revokes the whole session when a rotated token is reused', async () => {
    const user = await signUp(t, mail);
    const REFRESH = 'mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken } }';
    const first = await t.gql(REFRESH, { r: user.refreshToken });
    expect(first.errors).toBeUndefined();
    const rotated = first.data!.refreshSession;
    expect(rotated.refreshToken).not.toBe(user.refreshToken);
    expect((await t.gql(ME, {}, rotated.accessToken)).data!.me.user.id).toBe(user.id);

    const reuse = await t.gql(REFRESH, { r: user.refreshToken });
    expect(codeOf(reuse)).toBe('UNAUTHENTICATED');
    // The family is gone: the newest refresh token and every access token of the session fail.
    expect(codeOf(await t.gql(REFRESH, { r: rotated.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(ME, {}, rotated.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(ME, {}, user.accessToken))).toBe('UNAUTHENTICATED');
  });

  it('ends the access token at once on logout, and only that session', async () => {
    const user = await signUp(t, mail);
    const other = (await login(t, user.email)).data!.login;
    expect((await t.gql('mutation { logout }', {}, user.accessToken)).data!.logout).toBe(true);
    expect(codeOf(await t.gql(ME, {}, user.accessToken))).toBe('UNAUTHENTICATED');
    expect((await t.gql(ME, {}, other.accessToken)).data!.me.user.id).toBe(user.id);
  });

  it('changes the password: old tokens and the old password stop working, the new one signs in', async () => {
    const user = await signUp(t, mail);
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    expect(codeOf(await t.gql(CHANGE, { c: 'not my password', n: 'another good pass' }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(CHANGE, { c: PASSWORD, n: 'short' }, user.accessToken))).toBe('BAD_USER_INPUT');
    expect((await t.gql(CHANGE, { c: PASSWORD, n: 'another good pass' }, user.accessToken)).data!.changePassword).toBe(true);
    expect(codeOf(await t.gql(ME, {}, user.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(t, user.email, PASSWORD))).toBe('UNAUTHENTICATED');
    expect((await login(t, user.email, 'another good pass')).errors).toBeUndefined();
  });

  // The whole email-change flow (confirmation link, races, sessions) is in email-change.e2e.test.ts.
  it('asks for an email change only with the current password, refusing a taken or malformed address', async () => {
    const a = await signUp(t, mail);
    const b = await signUp(t, mail);
    const UPDATE = 'mutation($i: UpdateMeInput!) { updateMe(input: $i) { email } }';
    expect(codeOf(await t.gql(UPDATE, { i: { email: 'bad', currentPassword: PASSWORD } }, a.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(UPDATE, { i: { email: b.email, currentPassword: PASSWORD } }, a.accessToken))).toBe('CONFLICT');
    const fresh = uniqueEmail('moved');
    expect(codeOf(await t.gql(UPDATE, { i: { email: fresh } }, a.accessToken))).toBe('BAD_USER_INPUT');
    // Asked for, not applied: the address switches once the link mailed to it is followed.
    expect((await t.gql(UPDATE, { i: { email: fresh.toUpperCase(), currentPassword: PASSWORD } }, a.accessToken)).data!.updateMe.email).toBe(a.email);
    expect((await t.gql(ME, {}, b.accessToken)).data!.me.user.email).toBe(b.email);
  });

  it('resendVerification answers true for unknown emails and mails a fresh token to a pending user', async () => {
    const email = uniqueEmail('resend');
    await t.gql(REGISTER, { i: { email, password: PASSWORD } });
    const before = mail.messages.filter((m) => m.to.includes(email)).length;
    expect((await t.gql('mutation($e: String!) { resendVerification(email: $e) }', { e: email })).data!.resendVerification).toBe(true);
    expect((await t.gql('mutation($e: String!) { resendVerification(email: $e) }', { e: uniqueEmail('nobody') })).data!.resendVerification).toBe(true);
    await mail.waitFor(email, /token:\s+([A-Za-z0-9_-]{20,})/);
    expect(mail.messages.filter((m) => m.to.includes(email)).length).toBe(before + 1);
  });

  it('refuses me without a token, with a malformed header and with a forged token', async () => {
    expect(codeOf(await t.gql(ME))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(ME, {}, 'not-a-jwt'))).toBe('UNAUTHENTICATED');
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    expect(codeOf(await t.gql(ME, {}, none))).toBe('UNAUTHENTICATED');
  });

  it('audits every account action without ever storing a password or token', async () => {
    const user = await signUp(t, mail);
    await login(t, user.email, 'wrong password!');
    await t.gql('mutation { logout }', {}, user.accessToken);
    const rows = await t.app.services.orm.em.fork().getConnection().execute('select action, detail from audit_logs where user_id = ? order by created_at', [user.id]);
    const actions = rows.map((r) => (r as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(['user.register', 'user.verify_email', 'auth.login_failed', 'auth.logout']));
    const text = JSON.stringify(rows) + t.logs.text();
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(user.refreshToken);
    expect(text).not.toContain(user.accessToken);
  });
});
