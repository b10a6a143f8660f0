import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { codeOf } from '../support/graphql-client';
import { PASSWORD, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture, type CapturedMail } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'mail-admin@example.com', password: 'mail admin password' };
const PUBLIC_URL = 'https://app.example.com';
const REGISTER = 'mutation($i: RegisterInput!) { register(input: $i) { id status } }';
const sql = (t: TestApp, query: string, params: unknown[] = []) => t.app.services.orm.em.fork().getConnection().execute(query, params);

/** Both parts of one mail: the text part says `text`, the HTML part says `html` (its escaped form). */
function expectParts(mail: CapturedMail, expected: { subject: string | RegExp; text: Array<string | RegExp>; html: Array<string | RegExp> }) {
  if (typeof expected.subject === 'string') expect(mail.subject).toBe(expected.subject);
  else expect(mail.subject).toMatch(expected.subject);
  expect(mail.raw).toMatch(/Content-Type: multipart\/alternative/i);
  for (const t of expected.text) (typeof t === 'string' ? expect(mail.text).toContain(t) : expect(mail.text).toMatch(t));
  for (const h of expected.html) (typeof h === 'string' ? expect(mail.html).toContain(h) : expect(mail.html).toMatch(h));
  expect(mail.html).toMatch(/^<!doctype html>/i);
}

describe('every mail kind, read back from the SMTP server', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), PUBLIC_URL, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('verification: the link and the token for the mutation in both parts', async () => {
    const user = await signUp(t, mail);
    const m = await mail.waitForMail(user.email, (x) => x.subject === 'Verify your email address');
    expectParts(m, {
      subject: 'Verify your email address',
      text: [/https:\/\/app\.example\.com\/verify-email\?token=[A-Za-z0-9_-]{43}/, /verifyEmail mutation with this token:\s+[A-Za-z0-9_-]{43}/, '7-day free trial'],
      html: [/href="https:\/\/app\.example\.com\/verify-email\?token&#x3D;[A-Za-z0-9_-]{43}"/, '7-day free trial'],
    });
  });

  it('password reset: a one-hour link to the reset page', async () => {
    const user = await signUp(t, mail);
    expect((await t.gql('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: user.email })).data!.requestPasswordReset).toBe(true);
    const m = await mail.waitForMail(user.email, (x) => x.subject === 'Reset your password');
    expectParts(m, {
      subject: 'Reset your password',
      text: [/https:\/\/app\.example\.com\/reset-password\?token=[A-Za-z0-9_-]{43}/, 'expires in 60 minutes'],
      html: [/href="https:\/\/app\.example\.com\/reset-password\?token&#x3D;[A-Za-z0-9_-]{43}"/, 'expires in 60 minutes'],
    });
  });

  it('email change: a confirmation to the new address, a notice to the old one, and another once it is done', async () => {
    const user = await signUp(t, mail);
    const next = uniqueEmail('next');
    const res = await t.gql('mutation($i: UpdateMeInput!) { updateMe(input: $i) { email } }', { i: { email: next, currentPassword: PASSWORD } }, user.accessToken);
    expect(res.data!.updateMe.email).toBe(user.email);
    const confirm = await mail.waitForMail(next, (x) => x.subject === 'Confirm your new email address');
    expectParts(confirm, {
      subject: 'Confirm your new email address',
      text: [/https:\/\/app\.example\.com\/verify-email\?token=[A-Za-z0-9_-]{43}/, 'expires in 24 hours'],
      html: [/href="https:\/\/app\.example\.com\/verify-email\?token&#x3D;[A-Za-z0-9_-]{43}"/],
    });
    const notice = await mail.waitForMail(user.email, (x) => x.subject === 'A change of your sign-in email was requested');
    expectParts(notice, { subject: 'A change of your sign-in email was requested', text: [next], html: [`<strong>${next}</strong>`] });

    const token = /token=([A-Za-z0-9_-]{43})/.exec(confirm.text)![1];
    const page = await fetch(`${t.url.replace('/graphql', '')}/verify-email?token=${token}`);
    expect(page.status).toBe(200);
    const changed = await mail.waitForMail(user.email, (x) => x.subject === 'Your sign-in email was changed');
    expectParts(changed, { subject: 'Your sign-in email was changed', text: [`now ${next}`], html: [`<strong>${next}</strong>`] });
  });

  it('plan changed', async () => {
    const user = await signUp(t, mail);
    await t.gql('mutation { changePlan(plan: PRO) { subscription } }', {}, user.accessToken);
    const m = await mail.waitForMail(user.email, (x) => x.subject === 'Your plan changed to PRO');
    expectParts(m, {
      subject: 'Your plan changed to PRO',
      text: ['Your plan is now PRO (it was FREE).', 'PRO: 99.00 USD a month', 'from the next UTC day on'],
      html: ['<strong>PRO</strong> (it was FREE)'],
    });
    expect(m.text).not.toContain('was lowered');
  });

  it('account suspended and account banned', async () => {
    const suspended = await signUp(t, mail);
    const banned = await signUp(t, mail);
    await t.gql('mutation($id: ID!) { suspendUser(id: $id, reason: "internal: chargeback") { status } }', { id: suspended.id }, admin.accessToken);
    await t.gql('mutation($id: ID!) { banUser(id: $id, reason: "internal: fraud") { status } }', { id: banned.id }, admin.accessToken);
    const s = await mail.waitForMail(suspended.email, (x) => x.subject === 'Your account has been suspended');
    expectParts(s, { subject: 'Your account has been suspended', text: ['suspended by an administrator'], html: ['suspended by an administrator'] });
    const b = await mail.waitForMail(banned.email, (x) => x.subject === 'Your account has been closed');
    expectParts(b, { subject: 'Your account has been closed', text: ['closed by an administrator'], html: ['closed by an administrator'] });
    // The admin's internal reason is not the user's to read.
    for (const m of [s, b]) expect(m.text + m.html).not.toMatch(/internal:/);
  });

  it('key turned invalid, risk lock and lift, invoice issued and overdue, sign-in from a new IP: each with escaped values in HTML', async () => {
    const user = await signUp(t, mail);
    const n = t.app.services.notifier;
    const hostile = 'rejected <b>by</b> "exchange" & co';
    await n.keyTurnedInvalid(user.id, { maskedKey: 'vmPU…A0Qz', reason: hostile, source: 'FAN_OUT' });
    await n.riskLocked(user.id, 'daily loss 5.2% reached the limit of 5% <now>');
    await n.riskLifted(user.id, 'daily loss lock lifted: a new period began');
    const invoiceId = randomUUID();
    await sql(t, `insert into invoices (id, user_id, period_start, period_end, plan, subscription_fee, profit_share_fee, total, status, lines, due_at, created_at, updated_at)
      values (?, ?, '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z', 'PRO', '99', '30.5', '129.5', 'OPEN', ?, '2026-12-15T00:00:00Z', now(), now())`, [
      invoiceId, user.id,
      JSON.stringify([
        { kind: 'SUBSCRIPTION', plan: 'PRO', description: 'PRO plan, 30 days', amount: '99', calculation: '99 × 30/30' },
        { kind: 'PROFIT_SHARE', description: `Profit share ${hostile}`, amount: '30.5', calculation: '30 % of 101.67 = 30.501' },
      ]),
    ]);
    await n.invoiceIssued(invoiceId);
    await n.invoiceOverdue(invoiceId);
    await n.signInFromNewIp({ id: user.id, email: user.email }, '203.0.113.9', new Date('2026-12-01T10:00:00Z'));

    expectParts(await mail.waitForMail(user.email, (x) => x.subject === 'Your exchange API key stopped working'), {
      subject: 'Your exchange API key stopped working',
      text: ['While placing an order for you, your Binance API key vmPU…A0Qz', hostile],
      html: ['<code>vmPU…A0Qz</code>', 'rejected &lt;b&gt;by&lt;/b&gt; &quot;exchange&quot; &amp; co'],
    });
    expectParts(await mail.waitForMail(user.email, (x) => x.subject === 'Trading paused on your account: risk limit reached'), {
      subject: 'Trading paused on your account: risk limit reached',
      text: ['daily loss 5.2% reached the limit of 5% <now>'],
      html: ['daily loss 5.2% reached the limit of 5% &lt;now&gt;'],
    });
    expectParts(await mail.waitForMail(user.email, (x) => x.subject === 'Trading resumed on your account'), {
      subject: 'Trading resumed on your account',
      text: ['a new period began'],
      html: ['a new period began'],
    });
    expectParts(await mail.waitForMail(user.email, (x) => x.subject === 'Your invoice for November 2026: 129.50 USD, due 2026-12-15'), {
      subject: 'Your invoice for November 2026: 129.50 USD, due 2026-12-15',
      text: ['PRO plan, 30 days: 99.00 USD', '  30 % of 101.67 = 30.501', `Profit share ${hostile}: 30.50 USD`, 'Total: 129.50 USD (subscription 99.00, profit share 30.50'],
      html: ['<strong>129.50</strong>', 'Profit share rejected &lt;b&gt;by&lt;/b&gt; &quot;exchange&quot; &amp; co', `Invoice ${invoiceId}`],
    });
    expectParts(await mail.waitForMail(user.email, (x) => x.subject === 'Your invoice for November 2026 is overdue'), {
      subject: 'Your invoice for November 2026 is overdue',
      text: ['(129.50 USD) was due on 2026-12-15'],
      html: ['(<strong>129.50 USD</strong>) was due on 2026-12-15'],
    });
    expectParts(await mail.waitForMail(user.email, (x) => x.subject === 'New sign-in to your account'), {
      subject: 'New sign-in to your account',
      text: ['signed in to at 2026-12-01 10:00 UTC from the address 203.0.113.9,'],
      html: ['signed in to at 2026-12-01 10:00 UTC from the address <strong>203.0.113.9</strong>'],
    });
  });

  it('mails a user who changed address at their current one: the address is read when the mail is sent', async () => {
    const user = await signUp(t, mail);
    const moved = uniqueEmail('moved');
    await sql(t, 'update users set email = ? where id = ?', [moved, user.id]);
    await t.app.services.notifier.riskLocked(user.id, 'weekly loss limit');
    await mail.waitForMail(moved, (x) => x.subject.startsWith('Trading paused'));
    expect(mail.to(user.email).some((x) => x.subject.startsWith('Trading paused'))).toBe(false);
  });

  it('still delivers when the SMTP server refuses the first two attempts, and the action answered before any delivery', async () => {
    const email = uniqueEmail('flaky');
    const attemptsBefore = mail.attempts;
    mail.refuseNext(2);
    const res = await t.gql(REGISTER, { i: { email, password: PASSWORD } });
    // Answered while nothing has been delivered yet: the retries come e^1 s and e^2 s later.
    expect(res.data!.register.status).toBe('PENDING');
    expect(mail.to(email)).toHaveLength(0);
    const m = await mail.waitForMail(email, (x) => x.subject === 'Verify your email address', 30_000);
    expect(m.text).toMatch(/verifyEmail mutation with this token/);
    expect(mail.attempts - attemptsBefore).toBe(3);
    expect(mail.to(email)).toHaveLength(1);
    expect(t.logs.text()).toMatch(/attempt 2 of 8/);
    // The queue logs its jobs, retries included: their payloads are sealed, so neither the token nor the address shows.
    const token = /verifyEmail mutation with this token:\s+([A-Za-z0-9_-]{43})/.exec(m.text)![1];
    const jobLines = t.logs.lines.filter((l) => l.includes('notifications.send-mail'));
    expect(jobLines.length).toBeGreaterThan(0);
    expect(t.logs.text()).not.toContain(token);
    expect(jobLines.join('\n')).not.toContain(email);
  }, 40_000);
});

describe('a mail server that hangs', () => {
  let t: TestApp;
  let hanging: Server;
  const held = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and never says a word: the SMTP greeting never comes.
    hanging = createServer((socket) => held.add(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', () => resolve()));
    t = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${(hanging.address() as AddressInfo).port}` } });
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
    await t.stop();
  });

  it('never holds up or fails the action that causes a mail', async () => {
    const email = uniqueEmail('hang');
    const res = await t.gql(REGISTER, { i: { email, password: PASSWORD } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.register.status).toBe('PENDING');
    const reset = await t.gql('mutation($e: String!) { requestPasswordReset(email: $e) }', { e: email });
    expect(reset.data!.requestPasswordReset).toBe(true);
    expect(codeOf(await t.gql(REGISTER, { i: { email, password: PASSWORD } }))).toBe('CONFLICT');
    const rows = await sql(t, 'select action from audit_logs where user_id = ?', [res.data!.register.id]);
    expect(rows.map((r) => (r as { action: string }).action)).toContain('user.register');
  });
});
