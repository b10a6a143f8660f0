import { randomBytes } from 'node:crypto';
import { codeOf, connectSocket } from '../support/graphql-client';
import { login, PASSWORD, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';
import { follow, formOf, linkFromMail, sql, submitForm, tokenOf } from './account-links';

const SUBJECT = 'Reset your password';
const REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) }';
const RESET = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }';
const REFRESH = 'mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }';
const ME = '{ me { user { id } } }';
const NEW_PASSWORD = 'a brand new passphrase 42';

describe('password reset', () => {
  let t: TestApp;
  const mail = new MailCapture();
  const seenTokens: string[] = [];

  const resetLink = async (user: { email: string }, nth = 1) => {
    const link = await linkFromMail(mail, user.email, SUBJECT, 'reset-password', nth);
    seenTokens.push(tokenOf(link));
    return link;
  };
  const ask = async (email: string) => {
    const res = await t.gql(REQUEST, { e: email });
    expect(res.errors).toBeUndefined();
    return res;
  };
  const passwordHashOf = async (userId: string) => (await sql(t, 'select password_hash from users where id = ?', [userId]))[0].password_hash;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), PUBLIC_URL: 'https://app.example.com' } });
  });
  afterAll(async () => {
    // Nowhere in the log, at debug level, over the whole file: not a reset token, not a new password.
    const logs = t.logs.text();
    for (const token of seenTokens) expect(logs).not.toContain(token);
    expect(logs).not.toContain(NEW_PASSWORD);
    await t.stop();
    await mail.stop();
  });

  it('answers true alike for a known and an unknown address, and mails only the account that exists', async () => {
    const user = await signUp(t, mail);
    const ghost = uniqueEmail('ghost');
    const unknown = await ask(ghost);
    const known = await ask(user.email.toUpperCase());
    expect(unknown).toEqual(known);
    await resetLink(user);
    expect(mail.to(ghost)).toHaveLength(0);
    const rows = await sql(t, "select user_id, ip from audit_logs where action = 'auth.password_reset_requested'");
    expect(rows).toEqual([{ user_id: user.id, ip: expect.stringMatching(/127\.0\.0\.1/) }]);
  });

  it('queues the request sealed: the job row holds neither the address nor the client address, and the link still comes', async () => {
    // Every job row as it was inserted, before a worker runs and deletes it.
    await sql(t, 'create table seen_jobs (task text, payload text)');
    await sql(t, `create function remember_job() returns trigger language plpgsql as $$ begin
      insert into seen_jobs select identifier, new.payload::text from graphile_worker._private_tasks where id = new.task_id; return new; end $$`);
    await sql(t, 'create trigger remember_job after insert on graphile_worker._private_jobs for each row execute function remember_job()');
    const user = await signUp(t, mail);
    await ask(user.email);
    await resetLink(user);
    const rows = await sql(t, "select payload from seen_jobs where task = 'accounts.password-reset-request'");
    expect(rows).toHaveLength(1);
    expect(Object.keys(JSON.parse(rows[0].payload))).toEqual(['sealed']);
    for (const plain of [user.email, user.email.split('@')[0], '127.0.0.1']) expect(rows[0].payload).not.toContain(plain);
  });

  it('follows the mailed link to a form that sets the new password, ending every session and socket', async () => {
    const user = await signUp(t, mail);
    const other = await login(t, user.email);
    const socket = connectSocket(t.url, user.accessToken);
    socket.subscribe('subscription { orderUpdated { id } }');
    await ask(user.email);
    const link = await resetLink(user);

    const page = await follow(t, link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'$/);
    expect(page.body).not.toMatch(/<script/i);
    const form = formOf(page.body);
    expect(form.token).toBe(tokenOf(link));

    const done = await submitForm(t, link, form.action, { token: form.token, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    // The form posts to the page's own path, the token in the body and not in the URL.
    expect(new URL(done.url).pathname).toBe('/reset-password');
    expect(new URL(done.url).search).toBe('');
    expect(done.status).toBe(200);
    expect(done.body).toContain('Password changed');

    expect((await socket.closed).code).toBe(4403);
    expect(codeOf(await t.gql(ME, {}, user.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(ME, {}, other.data!.login.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql(REFRESH, { r: user.refreshToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await login(t, user.email, PASSWORD))).toBe('UNAUTHENTICATED');
    expect((await login(t, user.email, NEW_PASSWORD)).errors).toBeUndefined();

    const audit = await sql(t, "select actor_id, ip, detail from audit_logs where user_id = ? and action = 'auth.password_reset'", [user.id]);
    expect(audit).toEqual([{ actor_id: user.id, ip: expect.stringMatching(/127\.0\.0\.1/), detail: expect.stringMatching(/every session ended/) }]);
    expect(JSON.stringify(audit)).not.toContain(NEW_PASSWORD);
  });

  it('spends the link once: a second use of the page, the form or the mutation changes nothing', async () => {
    const user = await signUp(t, mail);
    await ask(user.email);
    const link = await resetLink(user);
    expect((await t.gql(RESET, { t: tokenOf(link), p: NEW_PASSWORD })).data!.resetPassword).toBe(true);
    const hash = await passwordHashOf(user.id);

    const page = await follow(t, link);
    expect(page.status).toBe(410);
    expect(page.body).toContain('already used');
    expect(page.body).not.toContain('<form');
    const form = await submitForm(t, link, 'reset-password', { token: tokenOf(link), password: 'yet another passphrase 7', confirm: 'yet another passphrase 7' });
    expect(form.status).toBe(410);
    const again = await t.gql(RESET, { t: tokenOf(link), p: 'yet another passphrase 7' });
    expect(codeOf(again)).toBe('BAD_USER_INPUT');
    expect(again.errors![0].message).toMatch(/already used/);
    expect(await passwordHashOf(user.id)).toBe(hash);
  });

  it('lets exactly one of two resets racing with the same link through', async () => {
    const user = await signUp(t, mail);
    await ask(user.email);
    const token = tokenOf(await resetLink(user));
    const results = await Promise.all([t.gql(RESET, { t: token, p: 'first racer passphrase' }), t.gql(RESET, { t: token, p: 'second racer passphrase' })]);
    expect(results.filter((r) => r.data?.resetPassword === true)).toHaveLength(1);
    expect(results.filter((r) => codeOf(r) === 'BAD_USER_INPUT')).toHaveLength(1);
    const winner = results[0].data?.resetPassword ? 'first racer passphrase' : 'second racer passphrase';
    expect((await login(t, user.email, winner)).errors).toBeUndefined();
    expect((await sql(t, "select count(*)::int as n from audit_logs where user_id = ? and action = 'auth.password_reset'", [user.id]))[0].n).toBe(1);
  });

  it('refuses an expired link, a forged one and a superseded one, and changes nothing', async () => {
    const user = await signUp(t, mail);
    const hash = await passwordHashOf(user.id);
    await ask(user.email);
    const first = await resetLink(user, 1);
    await ask(user.email);
    const second = await resetLink(user, 2);
    // Asking again retires the older link.
    expect((await follow(t, first)).status).toBe(410);
    expect(codeOf(await t.gql(RESET, { t: tokenOf(first), p: NEW_PASSWORD }))).toBe('BAD_USER_INPUT');

    await sql(t, "update email_tokens set expires_at = now() - interval '1 second' where user_id = ? and purpose = 'RESET_PASSWORD' and used_at is null", [user.id]);
    const expired = await follow(t, second);
    expect(expired.status).toBe(410);
    expect(expired.body).toContain('expired');
    const viaApi = await t.gql(RESET, { t: tokenOf(second), p: NEW_PASSWORD });
    expect(codeOf(viaApi)).toBe('BAD_USER_INPUT');
    expect(viaApi.errors![0].message).toMatch(/expired/);

    const real = tokenOf(second);
    const oneCharOff = `${real.slice(0, -1)}${real.endsWith('A') ? 'B' : 'A'}`;
    for (const forged of [randomBytes(32).toString('base64url'), 'x', '', oneCharOff, '<script>alert(1)</script>']) {
      expect(codeOf(await t.gql(RESET, { t: forged, p: NEW_PASSWORD }))).toBe('BAD_USER_INPUT');
      const page = await follow(t, `https://app.example.com/reset-password?token=${encodeURIComponent(forged)}`);
      expect(page.status).toBe(404);
      expect(page.body).not.toContain('<script>');
    }
    expect(await passwordHashOf(user.id)).toBe(hash);
  });

  it('keeps the link usable when the new password breaks the policy or the two fields differ', async () => {
    const user = await signUp(t, mail);
    await ask(user.email);
    const link = await resetLink(user);
    const hash = await passwordHashOf(user.id);

    const weak = await t.gql(RESET, { t: tokenOf(link), p: 'short' });
    expect(codeOf(weak)).toBe('BAD_USER_INPUT');
    expect(weak.errors![0].extensions).toMatchObject({ field: 'newPassword' });
    const weakForm = await submitForm(t, link, 'reset-password', { token: tokenOf(link), password: 'short', confirm: 'short' });
    expect(weakForm.status).toBe(400);
    expect(weakForm.body).toContain('class="error"');
    expect(formOf(weakForm.body).token).toBe(tokenOf(link));
    const differ = await submitForm(t, link, 'reset-password', { token: tokenOf(link), password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}!` });
    expect(differ.status).toBe(400);
    expect(differ.body).toContain('The two passwords differ');
    expect(await passwordHashOf(user.id)).toBe(hash);

    expect((await follow(t, link)).status).toBe(200);
    expect((await submitForm(t, link, 'reset-password', { token: tokenOf(link), password: NEW_PASSWORD, confirm: NEW_PASSWORD })).status).toBe(200);
  });

  it('never echoes a password back into the form, and answers a body over the limit with a page, not a stack', async () => {
    const user = await signUp(t, mail);
    await ask(user.email);
    const link = await resetLink(user);
    const res = await submitForm(t, link, 'reset-password', { token: tokenOf(link), password: '<b>x', confirm: '<b>x' });
    expect(res.status).toBe(400);
    expect(res.body).not.toContain('<b>x');
    const huge = await submitForm(t, link, 'reset-password', { token: tokenOf(link), password: 'p'.repeat(20_000), confirm: 'p' });
    expect(huge.status).toBe(413);
    expect(huge.body).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('ends a sign-in that checked the old password while the reset committed', async () => {
    const user: SignedInUser = await signUp(t, mail);
    await ask(user.email);
    const token = tokenOf(await resetLink(user));
    // Sign-ins with the old password, started one after another across the reset's whole run, so some check
    // the old hash before the reset commits and store their session after it. However each one
    // interleaves, none may outlive the reset.
    const logins: Array<Awaited<ReturnType<typeof login>>> = [];
    const [, reset] = await Promise.all([
      (async () => {
        const pending = [];
        for (let i = 0; i < 12; i += 1) {
          pending.push(login(t, user.email, PASSWORD).then((r) => logins.push(r)));
          await new Promise((r) => setTimeout(r, 30));
        }
        await Promise.all(pending);
      })(),
      t.gql(RESET, { t: token, p: NEW_PASSWORD }),
    ]);
    expect(logins.some((l) => !l.errors)).toBe(true);
    expect(reset.data!.resetPassword).toBe(true);
    for (const attempt of logins) {
      if (attempt.errors) continue;
      expect(codeOf(await t.gql(ME, {}, attempt.data!.login.accessToken))).toBe('UNAUTHENTICATED');
      expect(codeOf(await t.gql(REFRESH, { r: attempt.data!.login.refreshToken }))).toBe('UNAUTHENTICATED');
    }
    const live = await sql(t, 'select count(*)::int as n from sessions s join users u on u.id = s.user_id where s.user_id = ? and s.revoked_at is null and s.token_version = u.token_version', [user.id]);
    expect(live[0].n).toBe(0);
  });

  it('refuses a malformed address with BAD_USER_INPUT', async () => {
    expect(codeOf(await t.gql(REQUEST, { e: 'not an email' }))).toBe('BAD_USER_INPUT');
  });
});

describe('password-reset requests under a flood', () => {
  let t: TestApp;
  const mail = new MailCapture();

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start() } });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('limits requests per address, known or not, with RATE_LIMITED', async () => {
    const user = await signUp(t, mail);
    for (const email of [user.email, uniqueEmail('nobody')]) {
      const answers = [];
      for (let i = 0; i < 4; i += 1) answers.push(await t.gql(REQUEST, { e: email }));
      expect(answers.slice(0, 3).map((a) => a.data?.requestPasswordReset)).toEqual([true, true, true]);
      expect(codeOf(answers[3])).toBe('RATE_LIMITED');
      expect(answers[3].errors![0].extensions).toMatchObject({ retryAfterSeconds: expect.any(Number) });
    }
    await mail.waitForMail(user.email, () => mail.to(user.email).filter((m) => m.subject === SUBJECT).length === 3);
    // Audited like register and resend: once per client network and minute, however many refusals.
    const audited = await sql(t, "select user_id, ip, detail from audit_logs where action = 'auth.rate_limited'");
    expect(audited).toEqual([{ user_id: null, ip: '127.0.0.1', detail: expect.stringMatching(/^password reset for one address: Too many password-reset requests/) }]);
  });

  it('limits one client sweeping many addresses, alias-batched in one document too', async () => {
    // 8 requests above; the per-IP allowance is 20 an hour.
    const fields = Array.from({ length: 14 }, (_, i) => `r${i}: requestPasswordReset(email: "sweep-${i}@example.com")`).join(' ');
    const res = await t.gql(`mutation { ${fields} }`);
    expect(res.data).toBeNull();
    expect(res.errors!.some((e) => e.extensions?.code === 'RATE_LIMITED')).toBe(true);
    expect(codeOf(await t.gql(REQUEST, { e: uniqueEmail('late') }))).toBe('RATE_LIMITED');
    const audited = await sql(t, "select detail from audit_logs where action = 'auth.rate_limited' and detail like 'password reset:%'");
    expect(audited).toEqual([{ detail: expect.stringMatching(/^password reset: Too many password-reset requests from your network address; .*\(passwordResetPerIp\)$/) }]);
  });
});
