import { codeOf, connectSocket } from '../support/graphql-client';
import { login, signInAdmin, signUp, uniqueEmail, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN_EMAIL = 'root-admin@example.com';
const ADMIN_PASSWORD = 'admin password 123';
const USERS = 'query($s: UserStatus, $q: String, $f: Int, $a: String) { users(status: $s, search: $q, first: $f, after: $a) { total nextCursor items { id email status } } }';

describe('admin user operations', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;
  let alice: SignedInUser;
  let bob: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), ADMIN_EMAIL, ADMIN_PASSWORD } });
    admin = await signInAdmin(t, ADMIN_EMAIL, ADMIN_PASSWORD);
    alice = await signUp(t, mail, uniqueEmail('alice'));
    bob = await signUp(t, mail, uniqueEmail('bob'));
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('ensures the ADMIN_EMAIL account exists as an active admin', async () => {
    const me = await t.gql('{ me { user { role status } } }', {}, admin.accessToken);
    expect(me.data!.me.user).toEqual({ role: 'ADMIN', status: 'ACTIVE' });
  });

  it('refuses admin operations to a normal user with FORBIDDEN and to nobody with UNAUTHENTICATED', async () => {
    expect(codeOf(await t.gql(USERS, {}, alice.accessToken))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(USERS, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql('mutation($id: ID!) { suspendUser(id: $id) { id } }', { id: bob.id }, alice.accessToken))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql('{ auditLog { id } }', {}, alice.accessToken))).toBe('FORBIDDEN');
  });

  it('lists, searches and pages users with a stable cursor', async () => {
    const all = await t.gql(USERS, { f: 200 }, admin.accessToken);
    expect(all.data!.users.total).toBe(3);
    const search = await t.gql(USERS, { q: 'ALICE' }, admin.accessToken);
    expect(search.data!.users.items.map((u: { id: string }) => u.id)).toEqual([alice.id]);
    const page1 = await t.gql(USERS, { f: 2 }, admin.accessToken);
    const page2 = await t.gql(USERS, { f: 2, a: page1.data!.users.nextCursor }, admin.accessToken);
    const ids = [...page1.data!.users.items, ...page2.data!.users.items].map((u: { id: string }) => u.id);
    expect(new Set(ids).size).toBe(3);
    expect(page2.data!.users.nextCursor).toBeNull();
    expect(codeOf(await t.gql(USERS, { f: 0 }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(USERS, { f: 5000 }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql(USERS, { a: 'garbage' }, admin.accessToken))).toBe('BAD_USER_INPUT');
    expect(codeOf(await t.gql('{ users(first: "x") { total } }', {}, admin.accessToken))).toBe('BAD_USER_INPUT');
  });

  it('suspends a user: their tokens and open sockets end at once, they cannot sign in, and it is audited; activate restores', async () => {
    const socket = connectSocket(t.url, bob.accessToken);
    const sub = socket.subscribe('subscription { signalEmitted { id } }');
    await new Promise((r) => setTimeout(r, 300));

    const res = await t.gql('mutation($id: ID!) { suspendUser(id: $id, reason: "chargeback") { status } }', { id: bob.id }, admin.accessToken);
    expect(res.data!.suspendUser.status).toBe('SUSPENDED');
    expect((await socket.closed).code).toBe(4403);
    sub.unsubscribe();
    expect(codeOf(await t.gql('{ me { user { id } } }', {}, bob.accessToken))).toBe('UNAUTHENTICATED');
    // Exactly what a wrong password answers: the state is not told to whoever knows the email.
    expect(codeOf(await login(t, bob.email))).toBe('UNAUTHENTICATED');
    expect(codeOf(await t.gql('mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken } }', { r: bob.refreshToken }))).toBe('UNAUTHENTICATED');

    const audit = await t.gql('query($u: ID) { auditLog(userId: $u) { action actorId detail } }', { u: bob.id }, admin.accessToken);
    expect(audit.data!.auditLog).toEqual(expect.arrayContaining([{ action: 'admin.suspend_user', actorId: admin.id, detail: 'chargeback' }]));

    const back = await t.gql('mutation($id: ID!) { activateUser(id: $id) { status } }', { id: bob.id }, admin.accessToken);
    expect(back.data!.activateUser.status).toBe('ACTIVE');
    expect((await login(t, bob.email)).errors).toBeUndefined();
    await socket.dispose();
  });

  it('answers a malformed user id in the audit log like an unknown one (NOT_FOUND), not with a database error', async () => {
    expect(codeOf(await t.gql('{ auditLog(userId: "not-a-uuid") { id } }', {}, admin.accessToken))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql(`{ auditLog(userId: "${'-'.repeat(36)}") { id } }`, {}, admin.accessToken))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql('{ auditLog(userId: "00000000-0000-4000-8000-000000000000") { id } }', {}, admin.accessToken))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql('mutation { suspendUser(id: "not-a-uuid") { id } }', {}, admin.accessToken))).toBe('NOT_FOUND');
  });

  it('answers NOT_FOUND for an unknown user id and BAD_USER_INPUT for suspending oneself', async () => {
    expect(codeOf(await t.gql('mutation { suspendUser(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, admin.accessToken))).toBe('NOT_FOUND');
    expect(codeOf(await t.gql('mutation($id: ID!) { banUser(id: $id) { id } }', { id: admin.id }, admin.accessToken))).toBe('BAD_USER_INPUT');
  });
});
