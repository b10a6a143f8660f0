import { codeOf, connectSocket } from '../support/graphql-client';
import { login, PASSWORD, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import { follow, linkFromMail, sql, tokenOf } from './account-links';

const UPDATE = 'mutation($i: UpdateMeInput!) { updateMe(input: $i) { email } }';
const ME = '{ me { user { email } } }';
const CONFIRM_SUBJECT = 'Confirm your new email address';
const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { id } }';

describe('changing the sign-in email', () => {
  let t: TestApp;
  const mail = new MailCapture();

  const ask = (user: SignedInUser, email: string, currentPassword: string | null = PASSWORD) =>
    t.gql(UPDATE, { i: { email, currentPassword } }, user.accessToken);
  const emailOf = async (id: string) => (await sql(t, 'select email from users where id = ?', [id]))[0].email;
  const actions = async (id: string) => (await sql(t, 'select action, detail, ip from audit_logs where user_id = ? order by created_at', [id])) as Array<{ action: string; detail: string | null; ip: string | null }>;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), PUBLIC_URL: 'https://app.example.com' } });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('switches only once the link mailed to the new address is followed, keeps the asking session and ends the others', async () => {
    const user = await signUp(t, mail);
    const laptop = (await login(t, user.email)).data!.login;
    const laptopSocket = connectSocket(t.url, laptop.accessToken);
    laptopSocket.subscribe('subscription { orderUpdated { id } }');
    const next = uniqueEmail('next');

    expect((await ask(user, next.toUpperCase())).data!.updateMe.email).toBe(user.email);
    expect(await emailOf(user.id)).toBe(user.email);
    const notice = await mail.waitForMail(user.email, (m) => m.subject === 'A change of your sign-in email was requested');
    expect(notice.text).toContain(next);

    const link = await linkFromMail(mail, next, CONFIRM_SUBJECT, 'verify-email');
    const page = await follow(t, link);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`now signs in with ${next}`);
    expect(await emailOf(user.id)).toBe(next);
    await mail.waitForMail(user.email, (m) => m.subject === 'Your sign-in email was changed');

    // The session that asked lives on; every other one, socket included, ended.
    expect((await t.gql(ME, {}, user.accessToken)).data!.me.user.email).toBe(next);
    expect((await laptopSocket.closed).code).toBe(4403);
    expect(codeOf(await t.gql(ME, {}, laptop.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { r: laptop.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(t, user.email))).toBe('UNAUTHENTICATED');
    expect((await login(t, next)).errors).toBeUndefined();

    const rows = await actions(user.id);
    expect(rows).toEqual(expect.arrayContaining([
      { action: 'user.email_change_requested', detail: expect.stringContaining(next), ip: expect.stringMatching(/127\.0\.0\.1/) },
      { action: 'user.email_changed', detail: `email changed from ${user.email} to ${next}`, ip: expect.stringMatching(/127\.0\.0\.1/) },
    ]));
    expect((await follow(t, link)).status).toBe(410);
  });

  it('needs the current password, and counts wrong guesses per account', async () => {
    const user = await signUp(t, mail);
    const next = uniqueEmail('guess');
    const missing = await ask(user, next, null);
    expect(codeOf(missing)).toBe('BAD_USER_INPUT');
    expect(missing.errors![0].extensions).toMatchObject({ field: 'currentPassword' });
    const guesses = await Promise.all(Array.from({ length: 6 }, (_, i) => ask(user, next, `wrong guess number ${i}`)));
    expect(guesses.filter((g) => codeOf(g) === 'BAD_USER_INPUT')).toHaveLength(5);
    expect(guesses.filter((g) => codeOf(g) === 'RATE_LIMITED')).toHaveLength(1);
    expect(codeOf(await ask(user, next))).toBe('RATE_LIMITED');
    expect(mail.to(next)).toHaveLength(0);
    expect(await emailOf(user.id)).toBe(user.email);
  });

  it('reserves nothing before confirmation: the address can still be registered, and then the link fails', async () => {
    const user = await signUp(t, mail);
    const contested = uniqueEmail('contested');
    await ask(user, contested);
    const link = await linkFromMail(mail, contested, CONFIRM_SUBJECT, 'verify-email');
    expect((await t.gql(REGISTER, { i: { email: contested, password: PASSWORD } })).errors).toBeUndefined();
    const page = await follow(t, link);
    expect(page.status).toBe(409);
    expect(await emailOf(user.id)).toBe(user.email);
    expect((await actions(user.id)).map((r) => r.action)).not.toContain('user.email_changed');
  });

  it('lets two accounts ask for the same new address; the first to confirm wins, the second is told it is taken', async () => {
    const a = await signUp(t, mail);
    const b = await signUp(t, mail);
    const shared = uniqueEmail('shared');
    await ask(a, shared);
    await ask(b, shared);
    const links = [await linkFromMail(mail, shared, CONFIRM_SUBJECT, 'verify-email', 1), await linkFromMail(mail, shared, CONFIRM_SUBJECT, 'verify-email', 2)];
    // Both confirmations at once: the unique index decides.
    const pages = await Promise.all(links.map((l) => follow(t, l)));
    expect(pages.map((p) => p.status).sort()).toEqual([200, 409]);
    const owners = await sql(t, 'select id from users where email = ?', [shared]);
    expect(owners).toHaveLength(1);
    const loser = owners[0].id === a.id ? b : a;
    expect(await emailOf(loser.id)).toBe(loser.email);
  });

  it('lets one of two concurrent clicks on the same link switch the address', async () => {
    const user = await signUp(t, mail);
    const next = uniqueEmail('double');
    await ask(user, next);
    const link = await linkFromMail(mail, next, CONFIRM_SUBJECT, 'verify-email');
    const pages = await Promise.all([follow(t, link), follow(t, link), follow(t, link)]);
    expect(pages.filter((p) => p.status === 200)).toHaveLength(1);
    expect(pages.filter((p) => p.status === 410)).toHaveLength(2);
    expect((await actions(user.id)).filter((r) => r.action === 'user.email_changed')).toHaveLength(1);
  });

  it('works only through the page: the verifyEmail mutation, which signs in, refuses a change link', async () => {
    const user = await signUp(t, mail);
    const next = uniqueEmail('mutation');
    await ask(user, next);
    const link = await linkFromMail(mail, next, CONFIRM_SUBJECT, 'verify-email');
    expect(codeOf(await t.gql('mutation($t: String!) { verifyEmail(token: $t) { accessToken } }', { t: tokenOf(link) }))).toBe('BAD_USER_INPUT');
    expect(await emailOf(user.id)).toBe(user.email);
    expect((await follow(t, link)).status).toBe(200);
  });

  it('retires an older change link when a new one is asked for, and a reset link mailed to the old address once the switch is done', async () => {
    const user = await signUp(t, mail);
    const first = uniqueEmail('first');
    const second = uniqueEmail('second');
    await ask(user, first);
    await ask(user, second);
    const firstLink = await linkFromMail(mail, first, CONFIRM_SUBJECT, 'verify-email');
    expect((await follow(t, firstLink)).status).toBe(410);

    await t.gql('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: user.email });
    const resetLink = await linkFromMail(mail, user.email, 'Reset your password', 'reset-password');
    expect((await follow(t, await linkFromMail(mail, second, CONFIRM_SUBJECT, 'verify-email'))).status).toBe(200);
    expect((await follow(t, resetLink)).status).toBe(410);
  });

  it('leaves the email as it is for the same address, and refuses a PENDING account', async () => {
    const user = await signUp(t, mail);
    expect((await t.gql(UPDATE, { i: { email: user.email.toUpperCase() } }, user.accessToken)).data!.updateMe.email).toBe(user.email);
    const pendingEmail = uniqueEmail('pending');
    await t.gql(REGISTER, { i: { email: pendingEmail, password: PASSWORD } });
    const pending = (await login(t, pendingEmail)).data!.login;
    expect(codeOf(await t.gql(UPDATE, { i: { email: uniqueEmail(), currentPassword: PASSWORD } }, pending.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(UPDATE, { i: { email: uniqueEmail(), currentPassword: PASSWORD } }))).toBe('UNAUTHENTICATED');
  });
});
