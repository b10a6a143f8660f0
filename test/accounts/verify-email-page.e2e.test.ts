import { codeOf } from '../support/graphql-client';
import { PASSWORD, signInAdmin, uniqueEmail } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import { follow, linkFromMail, sql, tokenOf } from './account-links';

const SUBJECT = 'Verify your email address';
const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { id } }';
const VERIFY = 'mutation($t: String!) { verifyEmail(token: $t) { accessToken user { status } } }';
const ADMIN = { email: 'verify-admin@example.com', password: 'verify admin password' };

describe('GET /verify-email, the link in the verification mail', () => {
  let t: TestApp;
  const mail = new MailCapture();
  const tokens: string[] = [];

  const register = async (email = uniqueEmail('page')) => {
    const res = await t.gql(REGISTER, { i: { email, password: PASSWORD } });
    expect(res.errors).toBeUndefined();
    const link = await linkFromMail(mail, email, SUBJECT, 'verify-email');
    tokens.push(tokenOf(link));
    return { id: res.data!.register.id as string, email, link };
  };
  const statusOf = async (id: string) => (await sql(t, 'select status, trial_ends_at from users where id = ?', [id]))[0];

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), PUBLIC_URL: 'https://app.example.com', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
  });
  afterAll(async () => {
    const logs = t.logs.text();
    for (const token of tokens) expect(logs).not.toContain(token);
    await t.stop();
    await mail.stop();
  });

  it('verifies the address from the link in the mail and answers a page saying so, signing nobody in', async () => {
    const user = await register();
    const page = await follow(t, user.link);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Email address verified');
    expect(page.body).toContain('7-day free trial');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none';/);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.body).not.toMatch(/accessToken|refreshToken|<script/i);
    const row = await statusOf(user.id);
    expect(row.status).toBe('ACTIVE');
    expect(row.trial_ends_at).not.toBeNull();
    expect((await sql(t, 'select count(*)::int as n from sessions where user_id = ?', [user.id]))[0].n).toBe(0);
    const audit = await sql(t, "select actor_id, ip from audit_logs where user_id = ? and action = 'user.verify_email'", [user.id]);
    expect(audit).toEqual([{ actor_id: user.id, ip: expect.stringMatching(/127\.0\.0\.1/) }]);
  });

  it('says why not: already used, unknown, expired; and the mutation agrees', async () => {
    const used = await register();
    expect((await follow(t, used.link)).status).toBe(200);
    const again = await follow(t, used.link);
    expect(again.status).toBe(410);
    expect(again.body).toContain('already used');
    expect(codeOf(await t.gql(VERIFY, { t: tokenOf(used.link) }))).toBe('BAD_USER_INPUT');

    const unknown = await follow(t, 'https://app.example.com/verify-email?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('not valid');
    expect((await follow(t, 'https://app.example.com/verify-email')).status).toBe(404);
    const markup = await follow(t, `https://app.example.com/verify-email?token=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(markup.status).toBe(404);
    expect(markup.body).not.toContain('<script>');

    const late = await register();
    await sql(t, "update email_tokens set expires_at = now() - interval '1 second' where user_id = ?", [late.id]);
    const expired = await follow(t, late.link);
    expect(expired.status).toBe(410);
    expect(expired.body).toContain('expired');
    expect((await statusOf(late.id)).status).toBe('PENDING');
    expect(codeOf(await t.gql(VERIFY, { t: tokenOf(late.link) }))).toBe('BAD_USER_INPUT');
  });

  it('does not spend the link on a HEAD probe (mail scanners), and the mutation still signs in with it afterwards', async () => {
    const user = await register();
    expect((await follow(t, user.link, 'HEAD')).status).toBe(200);
    expect((await statusOf(user.id)).status).toBe('PENDING');
    const res = await t.gql(VERIFY, { t: tokenOf(user.link) });
    expect(res.data!.verifyEmail.user.status).toBe('ACTIVE');
    expect(res.data!.verifyEmail.accessToken).toEqual(expect.any(String));
  });

  it('lets one of many concurrent clicks verify, and writes one audit row', async () => {
    const user = await register();
    const pages = await Promise.all(Array.from({ length: 5 }, () => follow(t, user.link)));
    expect(pages.filter((p) => p.status === 200)).toHaveLength(1);
    expect(pages.filter((p) => p.status === 410)).toHaveLength(4);
    expect((await sql(t, "select count(*)::int as n from audit_logs where user_id = ? and action = 'user.verify_email'", [user.id]))[0].n).toBe(1);
  });

  it('refuses the link of an account suspended before it was followed, changing nothing', async () => {
    const admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    const user = await register();
    await t.gql('mutation($id: ID!) { suspendUser(id: $id) { status } }', { id: user.id }, admin.accessToken);
    const page = await follow(t, user.link);
    expect(page.status).toBe(403);
    expect((await statusOf(user.id)).status).toBe('SUSPENDED');
  });
});
