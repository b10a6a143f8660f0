import { codeOf, connectSocket, gql } from '../support/graphql-client';
import { signUp } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

describe('hardening in production mode', () => {
  let t: TestApp;
  const mail = new MailCapture();

  beforeAll(async () => {
    t = await startTestApp({ env: { NODE_ENV: 'production', SMTP_URL: await mail.start() } });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('refuses introspection over HTTP and over the socket', async () => {
    const http = await t.gql('{ __schema { types { name } } }');
    expect(codeOf(http)).toBe('BAD_USER_INPUT');
    expect(http.data).toBeUndefined();

    const user = await signUp(t, mail);
    const socket = connectSocket(t.url, user.accessToken);
    const sub = socket.subscribe('query { __schema { types { name } } }');
    await sub.completed;
    expect(JSON.stringify(sub.errors)).toMatch(/introspection/i);
    await socket.dispose();
  });

  it('hides field suggestions', async () => {
    const res = await t.gql('{ me { usr { id } } }');
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0].message).not.toMatch(/Did you mean/);
  });

  it('refuses batched HTTP requests', async () => {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(res.status).toBe(400);
  });
});

describe('errors the server did not expect', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('are masked as INTERNAL_SERVER_ERROR with an id that is in the log, never SQL or driver text', async () => {
    await t.app.services.orm.em.fork().getConnection().execute('drop table audit_logs cascade');
    const res = await gql(t.url, 'mutation { register(input: { email: "mask@example.com", password: "long enough pw" }) { id } }');
    expect(codeOf(res)).toBe('INTERNAL_SERVER_ERROR');
    const errorId = res.errors![0].extensions!.errorId as string;
    expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(res)).not.toMatch(/audit_logs|insert|relation|\$2b\$/i);
    expect(t.logs.lines.some((l) => l.includes(errorId) && l.includes('audit_logs'))).toBe(true);
  });

  it('expose Prometheus metrics at /metrics', async () => {
    const res = await fetch(t.url.replace('/graphql', '/metrics'));
    const text = await res.text();
    expect(text).toContain('signal_fanout_seconds');
    expect(text).toContain('graphql_ws_connections 0');
  });

  it('answer /healthz and /readyz', async () => {
    const base = t.url.replace('/graphql', '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(await ready.json()).toEqual({ status: 'ready', database: true, bus: true });
  });
});
