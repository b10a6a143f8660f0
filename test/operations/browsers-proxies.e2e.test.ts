import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_HANDSHAKES_PER_MINUTE, MAX_SOCKETS_PER_USER } from '../../src/app/socket-server';
import { signInAdmin, signUp, uniqueEmail, PASSWORD, type SignedInUser } from '../support/factories';
import { connectSocket, wsUrlOf } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'proxy-admin@example.com', password: 'proxy password 1' };
const ALLOWED = 'https://app.example.com';
const EVIL = 'https://evil.example.net';

/** Opens a raw WebSocket with these handshake headers; resolves with the HTTP status that refused it, or 101. */
function handshake(t: TestApp, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrlOf(t.url), 'graphql-transport-ws', { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
  });
}

/** A graphql-ws client whose handshake carries these headers (Origin, X-Forwarded-For). */
function socketWith(t: TestApp, token: string, headers: Record<string, string>) {
  const Impl = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  };
  return createClient({ url: wsUrlOf(t.url), webSocketImpl: Impl, retryAttempts: 0, lazy: true, connectionParams: { authorization: `Bearer ${token}` } });
}

const preflight = (t: TestApp, origin: string) =>
  fetch(t.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });

const lastIp = async (t: TestApp, admin: SignedInUser, userId: string, action: string) => {
  const res = await t.gql('query($u: ID) { auditLog(userId: $u, first: 20) { action ip } }', { u: userId }, admin.accessToken);
  return (res.data!.auditLog as Array<{ action: string; ip: string | null }>).find((e) => e.action === action)?.ip;
};

describe('browsers and proxies', () => {
  const mail = new MailCapture();
  let prod: TestApp;
  let prodBare: TestApp;
  let dev: TestApp;
  let prodAdmin: SignedInUser;
  let devAdmin: SignedInUser;

  beforeAll(async () => {
    const smtp = await mail.start();
    const admin = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, SMTP_URL: smtp };
    prod = await startTestApp({ env: { NODE_ENV: 'production', CORS_ORIGINS: ALLOWED, TRUST_PROXY: '1', ...admin } });
    prodBare = await startTestApp({ env: { NODE_ENV: 'production', SMTP_URL: smtp } });
    dev = await startTestApp({ env: admin });
    prodAdmin = await signInAdmin(prod, ADMIN.email, ADMIN.password);
    devAdmin = await signInAdmin(dev, ADMIN.email, ADMIN.password);
  });
  afterAll(async () => {
    await Promise.all([prod.stop(), prodBare.stop(), dev.stop()]);
    await mail.stop();
  });

  describe('CORS', () => {
    it('allows only CORS_ORIGINS in production, none when unset, any in development', async () => {
      expect((await preflight(prod, ALLOWED)).headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect((await preflight(prod, EVIL)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(prodBare, ALLOWED)).headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(dev, EVIL)).headers.get('access-control-allow-origin')).toBe(EVIL);
      const res = await fetch(prod.url, { method: 'POST', headers: { origin: ALLOWED, 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('WebSocket handshakes', () => {
    it('refuse a browser Origin not in CORS_ORIGINS and allow a listed one or none (a non-browser client)', async () => {
      expect(await handshake(prod, { origin: EVIL })).toBe(403);
      expect(await handshake(prodBare, { origin: ALLOWED })).toBe(403);
      expect(await handshake(prod, { origin: ALLOWED })).toBe(101);
      expect(await handshake(prod, {})).toBe(101);
      expect(await handshake(dev, { origin: EVIL })).toBe(101);
    });

    it(`cap a user at ${MAX_SOCKETS_PER_USER} open sockets per node (4429 past it), another user unaffected`, async () => {
      const user = await signUp(prod, mail);
      const other = await signUp(prod, mail);
      const open = Array.from({ length: MAX_SOCKETS_PER_USER }, () => connectSocket(prod.url, user.accessToken));
      // An answered query proves each socket was accepted.
      for (const s of open) expect((await s.client.iterate({ query: '{ __typename }' }).next()).value).toEqual({ data: { __typename: 'Query' } });
      const extra = connectSocket(prod.url, user.accessToken);
      expect((await extra.closed).code).toBe(4429);
      const theirs = connectSocket(prod.url, other.accessToken);
      const res = await theirs.client.iterate({ query: 'query { me { user { id } } }' }).next();
      expect((res.value as { data: { me: { user: { id: string } } } }).data.me.user.id).toBe(other.id);
      await open[0].dispose();
      const again = connectSocket(prod.url, user.accessToken);
      const mine = await again.client.iterate({ query: 'query { me { user { id } } }' }).next();
      expect((mine.value as { data: { me: { user: { id: string } } } }).data.me.user.id).toBe(user.id);
      await Promise.all([...open.slice(1), extra, theirs, again].map((s) => s.dispose()));
    });

    it('hide field suggestions in production as HTTP does, and keep them in development', async () => {
      const typo = 'subscription { signalEmited { id } }';
      for (const [t, hidden] of [[prod, true], [dev, false]] as const) {
        const user = await signUp(t, mail);
        const socket = connectSocket(t.url, user.accessToken);
        const sub = socket.subscribe(typo);
        await sub.completed;
        const text = JSON.stringify(sub.errors);
        expect(text).toMatch(/Cannot query field/);
        if (hidden) expect(text).not.toMatch(/Did you mean/);
        else expect(text).toMatch(/Did you mean/);
        await socket.dispose();
      }
    });
  });

  describe('client addresses', () => {
    it('come from X-Forwarded-For only through TRUST_PROXY, for audit rows over HTTP and on sockets', async () => {
      for (const [t, admin, expected] of [[prod, prodAdmin, '203.0.113.5'], [dev, devAdmin, '127.0.0.1']] as const) {
        const email = uniqueEmail('xff');
        const reg = await fetch(t.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.5' },
          body: JSON.stringify({ query: 'mutation($i: RegisterInput!) { register(input: $i) { id } }', variables: { i: { email, password: PASSWORD } } }),
        });
        const userId = ((await reg.json()) as { data: { register: { id: string } } }).data.register.id;
        expect(await lastIp(t, admin, userId, 'user.register')).toBe(expected);

        const user = await signUp(t, mail);
        const client = socketWith(t, user.accessToken, { 'x-forwarded-for': '198.51.100.23' });
        const done = await client.iterate({ query: 'mutation { changePlan(plan: BASIC) { subscription } }' }).next();
        expect((done.value as { data: { changePlan: { subscription: string } } }).data.changePlan.subscription).toBe('BASIC');
        await client.dispose();
        expect(await lastIp(t, admin, user.id, 'user.change_plan')).toBe(t === prod ? '198.51.100.23' : '127.0.0.1');
      }
    });

    it(`rate-limit socket handshakes per client address (${MAX_HANDSHAKES_PER_MINUTE} a minute), which a forged X-Forwarded-For cannot reset`, async () => {
      // Behind the trusted proxy each client has its own allowance.
      for (let i = 0; i < MAX_HANDSHAKES_PER_MINUTE; i++) expect(await handshake(prod, { 'x-forwarded-for': '198.51.100.77' })).toBe(101);
      expect(await handshake(prod, { 'x-forwarded-for': '198.51.100.77' })).toBe(429);
      expect(await handshake(prod, { 'x-forwarded-for': '198.51.100.78' })).toBe(101);
      // Without TRUST_PROXY the header is the client's own words: every attempt counts against its real address.
      for (let i = 0; i < MAX_HANDSHAKES_PER_MINUTE; i++) await handshake(dev, { 'x-forwarded-for': `192.0.2.${i}` });
      expect(await handshake(dev, { 'x-forwarded-for': '192.0.2.200' })).toBe(429);
    });
  });
});
