import { gqlFrom, loginFrom, randomLoopback } from '../support/client-address';
import { codeOf } from '../support/graphql-client';
import { PASSWORD, uniqueEmail } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const REGISTER = 'mutation($e: String!) { register(input: { email: $e, password: "correct horse battery" }) { id } }';
const RESEND = 'mutation($e: String!) { resendVerification(email: $e) }';
const SIGNUP_LIMIT = 3;
const GLOBAL_LIMIT = 4;
/** Sign-ups for one address per hour (fixed, not a setting). */
const REGISTER_EMAIL_LIMIT = 10;

describe('sign-up, resend and cluster-wide sign-in limits', () => {
  let t: TestApp;
  const mail = new MailCapture();
  const count = async (query: string, params: unknown[]) =>
    ((await t.app.services.orm.em.fork().getConnection().execute(query, params)) as Array<{ n: number }>)[0].n;

  beforeAll(async () => {
    t = await startTestApp({
      env: { SMTP_URL: await mail.start(), SIGNUP_NETWORK_LIMIT: String(SIGNUP_LIMIT), AUTH_GLOBAL_FAILURE_LIMIT: String(GLOBAL_LIMIT) },
    });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('limits sign-ups per network, creating nothing past the limit', async () => {
    const from = randomLoopback();
    for (let i = 0; i < SIGNUP_LIMIT; i++) expect((await gqlFrom(t.url, from, REGISTER, { e: uniqueEmail('flood') })).errors).toBeUndefined();
    const email = uniqueEmail('flood');
    const refused = await gqlFrom(t.url, from, REGISTER, { e: email });
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
    expect(await count('select count(*)::int as n from users where email = ?', [email])).toBe(0);
    expect((await gqlFrom(t.url, randomLoopback(), REGISTER, { e: email })).errors).toBeUndefined();
    expect(await count("select count(*)::int as n from audit_logs where action = 'auth.rate_limited' and ip = ?", [from])).toBe(1);
  });

  it('limits sign-ups per address across networks, refusing past the limit before the address is even looked up', async () => {
    const email = uniqueEmail('target');
    const first = randomLoopback();
    expect((await gqlFrom(t.url, first, REGISTER, { e: email })).errors).toBeUndefined();
    for (let i = 1; i < REGISTER_EMAIL_LIMIT; i++) expect(codeOf(await gqlFrom(t.url, randomLoopback(), REGISTER, { e: email }))).toBe('CONFLICT');
    const from = randomLoopback();
    const refused = await gqlFrom(t.url, from, REGISTER, { e: email.toUpperCase() });
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.errors![0].message).toMatch(/this email address/);
    expect(refused.errors![0].extensions!.retryAfterSeconds).toBeGreaterThan(0);
    expect(await count('select count(*)::int as n from users where email = ?', [email])).toBe(1);
    expect(await count("select count(*)::int as n from audit_logs where action = 'auth.rate_limited' and ip = ? and detail like 'register for one address%'", [from])).toBe(1);
    // Another address from the same network is not held by it.
    expect((await gqlFrom(t.url, from, REGISTER, { e: uniqueEmail('other') })).errors).toBeUndefined();
  });

  it('limits verification mails per address and per network, whether or not the address has an account', async () => {
    const email = uniqueEmail('resend');
    expect((await gqlFrom(t.url, randomLoopback(), REGISTER, { e: email })).errors).toBeUndefined();
    await mail.waitFor(email, /token:\s+([A-Za-z0-9_-]{20,})/);
    for (let i = 0; i < 3; i++) expect((await gqlFrom(t.url, randomLoopback(), RESEND, { e: email })).data!.resendVerification).toBe(true);
    expect(codeOf(await gqlFrom(t.url, randomLoopback(), RESEND, { e: email }))).toBe('RATE_LIMITED');
    const unknown = uniqueEmail('nobody');
    for (let i = 0; i < 3; i++) await gqlFrom(t.url, randomLoopback(), RESEND, { e: unknown });
    expect(codeOf(await gqlFrom(t.url, randomLoopback(), RESEND, { e: unknown }))).toBe('RATE_LIMITED');
    // One registration mail and three resends reached the mailbox, no more.
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.messages.filter((m) => m.to.includes(email))).toHaveLength(4);

    const from = randomLoopback();
    for (let i = 0; i < SIGNUP_LIMIT; i++) await gqlFrom(t.url, from, RESEND, { e: uniqueEmail('spray') });
    expect(codeOf(await gqlFrom(t.url, from, RESEND, { e: uniqueEmail('spray') }))).toBe('RATE_LIMITED');
  });

  it('pauses sign-ins from unrecognised networks when failures spike across the cluster, never those from known ones', async () => {
    const email = uniqueEmail('regular');
    const home = randomLoopback();
    expect((await gqlFrom(t.url, home, REGISTER, { e: email })).errors).toBeUndefined();
    expect((await loginFrom(t.url, home, email, PASSWORD)).errors).toBeUndefined();
    // Stuffing spread thin: each network and each account stays far under its own limit.
    for (let i = 0; i < GLOBAL_LIMIT; i++) {
      expect(codeOf(await loginFrom(t.url, randomLoopback(), uniqueEmail('victim'), 'leaked password'))).toBe('UNAUTHENTICATED');
    }
    const paused = await loginFrom(t.url, randomLoopback(), email, PASSWORD);
    expect(codeOf(paused)).toBe('RATE_LIMITED');
    expect(paused.errors![0].message).toMatch(/new locations are paused/);
    expect((await loginFrom(t.url, home, email, PASSWORD)).errors).toBeUndefined();
  });
});
