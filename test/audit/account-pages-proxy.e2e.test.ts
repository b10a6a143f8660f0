import { request } from 'node:http';
import { linkFromMail, onServer, tokenOf } from '../accounts/account-links';
import { randomLoopback } from '../support/client-address';
import { PASSWORD, signUp, uniqueEmail } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const PUBLIC_URL = 'https://app.example.com';
const NEW_PASSWORD = 'a proxied new passphrase 9';
/** What a browser behind the proxy sent itself (forged), then the address the proxy saw and appended. */
const FORGED = '192.0.2.66';
const CLIENT = '203.0.113.7';

/** One HTTP request from a chosen loopback address (the proxy's, or a client's own), headers as given. */
function httpFrom(url: string, from: string, init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }) {
  const target = new URL(url);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method,
        localAddress: from,
        agent: false,
        headers: { ...(init.headers ?? {}), ...(init.body !== undefined ? { 'content-length': Buffer.byteLength(init.body) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * The two account pages (GET /verify-email, POST /reset-password) write the
 * audit rows of a verification and a password reset: their client address
 * comes from X-Forwarded-For only through a trusted proxy (TRUST_PROXY), like
 * every GraphQL request's, and only as far as the trusted hops reach.
 */
describe('the account pages audit the client address through trusted proxies only', () => {
  const mail = new MailCapture();
  let proxied: TestApp;
  let direct: TestApp;

  const ipOf = async (t: TestApp, userId: string, action: string) => {
    const rows = await t.app.services.orm.em.fork().getConnection().execute('select ip from audit_logs where user_id = ? and action = ?', [userId, action]);
    expect(rows).toHaveLength(1);
    return rows[0].ip as string | null;
  };

  const followVerifyLink = async (t: TestApp, from: string, headers: Record<string, string>) => {
    const email = uniqueEmail('page-xff');
    const reg = await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password: PASSWORD } });
    const userId = reg.data!.register.id as string;
    const link = await linkFromMail(mail, email, 'Verify your email address', 'verify-email');
    const page = await httpFrom(onServer(t, link), from, { method: 'GET', headers });
    expect(page.status).toBe(200);
    return ipOf(t, userId, 'user.verify_email');
  };

  const resetThroughForm = async (t: TestApp, from: string, headers: Record<string, string>) => {
    const user = await signUp(t, mail);
    expect((await t.gql('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: user.email })).data!.requestPasswordReset).toBe(true);
    const link = await linkFromMail(mail, user.email, 'Reset your password', 'reset-password');
    const body = new URLSearchParams({ token: tokenOf(link), password: NEW_PASSWORD, confirm: NEW_PASSWORD }).toString();
    const done = await httpFrom(`${new URL(t.url).origin}/reset-password`, from, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    expect(done.status).toBe(200);
    expect(done.body).toContain('Password changed');
    return ipOf(t, user.id, 'auth.password_reset');
  };

  beforeAll(async () => {
    const smtp = await mail.start();
    // One proxy hop in front of the server (it connects from loopback), as behind a single load balancer.
    proxied = await startTestApp({ env: { SMTP_URL: smtp, PUBLIC_URL, TRUST_PROXY: '1' } });
    direct = await startTestApp({ env: { SMTP_URL: smtp, PUBLIC_URL } });
  });
  afterAll(async () => {
    await proxied.stop();
    await direct.stop();
    await mail.stop();
  });

  it('GET /verify-email behind a trusted proxy audits the address the proxy saw, not what the client claimed', async () => {
    expect(await followVerifyLink(proxied, randomLoopback(), { 'x-forwarded-for': `${FORGED}, ${CLIENT}` })).toBe(CLIENT);
    expect(await followVerifyLink(proxied, randomLoopback(), { 'x-forwarded-for': CLIENT })).toBe(CLIENT);
  });

  it('POST /reset-password behind a trusted proxy audits the address the proxy saw, not what the client claimed', async () => {
    expect(await resetThroughForm(proxied, randomLoopback(), { 'x-forwarded-for': `${FORGED}, ${CLIENT}` })).toBe(CLIENT);
  });

  it('without TRUST_PROXY both pages ignore X-Forwarded-For and audit the connecting address', async () => {
    const verifier = randomLoopback();
    expect(await followVerifyLink(direct, verifier, { 'x-forwarded-for': CLIENT })).toBe(verifier);
    const resetter = randomLoopback();
    expect(await resetThroughForm(direct, resetter, { 'x-forwarded-for': CLIENT })).toBe(resetter);
  });

  it('behind a trusted proxy a request with no X-Forwarded-For is audited at its connecting address', async () => {
    const from = randomLoopback();
    expect(await followVerifyLink(proxied, from, {})).toBe(from);
    const resetter = randomLoopback();
    expect(await resetThroughForm(proxied, resetter, {})).toBe(resetter);
  });
});
