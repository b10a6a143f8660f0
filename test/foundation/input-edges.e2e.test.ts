import { request } from 'node:http';
import { codeOf, connectSocket } from '../support/graphql-client';
import { login, PASSWORD, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'edges-admin@example.com', password: 'edges admin password' };

/** A raw POST, so a body can be anything: not JSON, too large, any content type. */
function post(url: string, body: string, contentType: string): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// What a stack trace or a path in an error page looks like.
const LEAK = /node_modules|\/work\/|\bat [\w.<>]+ \(|SyntaxError|PayloadTooLargeError|<pre>/;

describe('edges that used to leak or crash (NODE_ENV=development)', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let user: SignedInUser;
  let admin: SignedInUser;
  const sql = (query: string, params: unknown[] = []) =>
    t.app.services.orm.em.fork().getConnection().execute(query, params) as Promise<Array<Record<string, any>>>;

  beforeAll(async () => {
    t = await startTestApp({ env: { NODE_ENV: 'development', SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    user = await signUp(t, mail);
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('answers a document over the token limit with 400 BAD_USER_INPUT, not 500', async () => {
    const many = `{ ${Array.from({ length: 800 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const res = await post(t.url, JSON.stringify({ query: many }), 'application/json');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).errors[0]).toMatchObject({ message: expect.stringMatching(/Token limit/), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('refuses a huge document before parsing it, though the body is under the JSON cap', async () => {
    const res = await post(t.url, JSON.stringify({ query: `{ __typename ${' '.repeat(60_000)}}` }), 'application/json');
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).errors[0]).toMatchObject({ message: expect.stringMatching(/too large: at most 20000 characters/), extensions: { code: 'BAD_USER_INPUT' } });
    // The limit is on the document: large variables still fit.
    const ok = await post(t.url, JSON.stringify({ query: 'query($s: String) { users(search: $s) { total } }', variables: { s: 'y'.repeat(50_000) } }), 'application/json');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text).errors[0].message).not.toMatch(/document is too large/);
  });

  it('applies the document limit on graphql-ws too', async () => {
    const socket = connectSocket(t.url, user.accessToken);
    const sub = socket.subscribe(`subscription { signalEmitted { id } ${' '.repeat(30_000)}}`);
    await sub.completed;
    expect(JSON.stringify(sub.errors)).toMatch(/too large/);
    await socket.dispose();
  });

  it.each([
    ['malformed JSON', '{"query": ', 'application/json', 400],
    ['a body over the JSON cap', `{"query": "${'x'.repeat(200_000)}"}`, 'application/json', 413],
    ['an unsupported charset', '{"query": "{ __typename }"}', 'application/json; charset=klingon', 415],
  ])('answers %s with a small JSON error carrying no stack or path', async (_label, body, type, status) => {
    const res = await post(t.url, body, type);
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/application\/json/);
    expect(res.text).not.toMatch(LEAK);
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it.each([
    ['text/plain', 'query { __typename }'],
    ['application/xml', '<query/>'],
  ])('answers a %s body without a stack or an internal message', async (type, body) => {
    const res = await post(t.url, body, type);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).not.toMatch(LEAK);
    expect(res.text).not.toMatch(/req\.body|middleware/);
  });

  it.each(['0000-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '-000001-01-01T00:00:00Z'])(
    'refuses the DateTime %s with BAD_USER_INPUT, in a variable and in a literal',
    async (d) => {
      const byVariable = await t.gql('query($d: DateTime) { me { trades(from: $d) { items { id } } } }', { d }, user.accessToken);
      expect(codeOf(byVariable)).toBe('BAD_USER_INPUT');
      const byLiteral = await t.gql(`{ me { trades(to: "${d}") { items { id } } } }`, {}, user.accessToken);
      expect(codeOf(byLiteral)).toBe('BAD_USER_INPUT');
    },
  );

  it.each(['0000-01-01T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'])(
    'refuses a forged cursor dated %s with BAD_USER_INPUT on every paged list',
    async (iso) => {
      const after = Buffer.from(`${iso}|00000000-0000-4000-8000-000000000000`).toString('base64url');
      expect(codeOf(await t.gql('query($a: String) { me { trades(after: $a) { items { id } } } }', { a: after }, user.accessToken))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('query($a: String) { me { orders(after: $a) { items { id } } } }', { a: after }, user.accessToken))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('query($a: String) { users(after: $a) { total } }', { a: after }, admin.accessToken))).toBe('BAD_USER_INPUT');
    },
  );

  it('refuses a NUL or control character in the email of every mutation taking one, changing nothing', async () => {
    const users = async () => (await sql('select count(*)::int as n from users'))[0].n as number;
    const before = await users();
    for (const email of ['nul\u0000@example.com', 'bell\u0007@example.com', 'zero\u200bwidth@example.com', `${user.email}\u0000`]) {
      expect(codeOf(await t.gql('mutation($e: String!) { register(input: { email: $e, password: "correct horse battery" }) { id } }', { e: email }))).toBe('BAD_USER_INPUT');
      expect(codeOf(await login(t, email))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('mutation($e: String!) { resendVerification(email: $e) }', { e: email }))).toBe('BAD_USER_INPUT');
      expect(codeOf(await t.gql('mutation($e: String!) { updateMe(input: { email: $e }) { email } }', { e: email }, user.accessToken))).toBe('BAD_USER_INPUT');
    }
    expect(await users()).toBe(before);
    expect((await t.gql('{ me { user { email } } }', {}, user.accessToken)).data!.me.user.email).toBe(user.email);
  });

  it('cannot create a second account with a look-alike of an existing email', async () => {
    const email = uniqueEmail('lookalike');
    const REGISTER = 'mutation($e: String!) { register(input: { email: $e, password: "correct horse battery" }) { id email } }';
    expect((await t.gql(REGISTER, { e: email })).data!.register.email).toBe(email);
    const [local, domain] = email.split('@');
    const fullWidth = `${[...local].map((c) => (/[a-z0-9]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('')}@${domain}`;
    for (const twin of [fullWidth, `${local}＠${domain}`, `${email} `, `\u00a0${email.toUpperCase()}`]) {
      expect(codeOf(await t.gql(REGISTER, { e: twin }))).toBe('CONFLICT');
    }
    expect((await sql('select count(*)::int as n from users where email = ?', [email]))[0].n).toBe(1);
    expect((await login(t, fullWidth, PASSWORD)).errors).toBeUndefined();
  });

  it('refuses a NUL anywhere in text arguments instead of failing in the database', async () => {
    const checks: Array<[string, Record<string, unknown>, string | null]> = [
      ['query($s: String) { users(search: $s) { total } }', { s: 'a\u0000b' }, admin.accessToken],
      ['mutation($u: ID!, $r: String!) { unlockRisk(userId: $u, reason: $r) { isLocked } }', { u: user.id, r: 'ok\u0000' }, admin.accessToken],
      ['mutation($u: ID!, $r: String) { suspendUser(id: $u, reason: $r) { status } }', { u: user.id, r: 'x\u0000' }, admin.accessToken],
      ['mutation($p: String!) { login(email: "a@example.com", password: $p) { accessToken } }', { p: 'pass\u0000word' }, null],
      ['{ users(search: "a\\u0000b") { total } }', {}, admin.accessToken],
    ];
    for (const [query, variables, token] of checks) {
      const res = await t.gql(query, variables, token);
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
    }
    expect((await t.gql('{ me { user { status } } }', {}, user.accessToken)).data!.me.user.status).toBe('ACTIVE');
  });

  it('bounds other text that reaches the database', async () => {
    const long = 'x'.repeat(5000);
    expect(codeOf(await t.gql('mutation($u: ID!, $r: String) { suspendUser(id: $u, reason: $r) { status } }', { u: user.id, r: long }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql('query($s: String) { users(search: $s) { total } }', { s: long }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql('mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email: `${long}@example.com`, password: PASSWORD } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql('query($f: Int) { me { trades(first: $f) { items { id } } } }', { f: 2_147_483_647 }, user.accessToken))).toBe('BAD_USER_INPUT');
    // A malformed id answers like an unknown one (NOT_FOUND, docs/decisions.md "Admin console"): it never reaches the uuid column either.
    expect(codeOf(await t.gql('query($u: ID) { auditLog(userId: $u) { id } }', { u: long }, admin.accessToken))).toBe('NOT_FOUND');
    expect((await t.gql('{ me { user { status } } }', {}, user.accessToken)).data!.me.user.status).toBe('ACTIVE');
  });

  it('audits an admin operation denied to a user: actor, operation and address, once per request', async () => {
    const res = await t.gql(
      'query Snoop { a: users { total } b: users { total } c: auditLog { id } }',
      {},
      user.accessToken,
    );
    expect(codeOf(res)).toBe('FORBIDDEN');
    const denied = await t.gql('mutation Grab($id: ID!) { banUser(id: $id) { id } }', { id: admin.id }, user.accessToken);
    expect(codeOf(denied)).toBe('FORBIDDEN');
    const rows = await sql("select actor_id, detail, ip from audit_logs where action = 'auth.forbidden' and actor_id = ? order by created_at", [user.id]);
    expect(rows.map((r) => r.detail).sort()).toEqual([
      'mutation banUser (operation Grab): needs ADMIN',
      'query auditLog (operation Snoop): needs ADMIN',
      'query users (operation Snoop): needs ADMIN',
    ]);
    expect(rows.every((r) => r.ip === '127.0.0.1')).toBe(true);
    expect((await t.gql('{ me { user { role } } }', {}, admin.accessToken)).data!.me.user.role).toBe('ADMIN');
  });
});
