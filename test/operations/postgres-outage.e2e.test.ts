import { eventually } from '../support/eventually';
import { signUp, type SignedInUser } from '../support/factories';
import { codeOf } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { startPostgresProcess, type PostgresProcess } from '../support/postgres-process';
import { startTestApp, type TestApp } from '../support/test-app';

const base = (t: TestApp) => t.url.replace('/graphql', '');
const status = async (t: TestApp, path: string) => (await fetch(`${base(t)}${path}`)).status;
const leaderMetric = async (t: TestApp) => /^strategy_leader 1$/m.test(await (await fetch(`${base(t)}/metrics`)).text());

describe('a PostgreSQL restart (a cluster this test stops and starts)', () => {
  let pg: PostgresProcess;
  let t: TestApp;
  const mail = new MailCapture();
  let user: SignedInUser;
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', record);
    pg = await startPostgresProcess();
    // The engine too, so the strategy leader's lock connection goes through the restart as well.
    t = await startTestApp({
      database: { url: pg.url, name: 'test', drop: async () => undefined },
      env: { SMTP_URL: await mail.start(), ENGINE_ENABLED: 'true', ENGINE_LEADER_CHECK_MS: '200' },
    });
    user = await signUp(t, mail);
  });
  afterAll(async () => {
    process.off('unhandledRejection', record);
    await t?.stop();
    await pg?.destroy();
    await mail.stop();
  });

  it('answers errors while the database is down, never crashes, and recovers by itself once it is back', async () => {
    await eventually('this node to lead the strategy', () => leaderMetric(t));
    await pg.stop();

    const during = await t.gql('{ me { user { email } } }', {}, user.accessToken);
    expect(codeOf(during)).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(during)).not.toMatch(/ECONNREFUSED|connect|5432|postgres/i);
    expect(codeOf(await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 2, maxPositionPct: 0.05 }) { isValid } }', {}, user.accessToken))).toBe(
      'INTERNAL_SERVER_ERROR',
    );
    expect(await status(t, '/healthz')).toBe(200);
    expect(await status(t, '/readyz')).toBe(503);
    await eventually('the leader to notice it lost its lock connection', async () => !(await leaderMetric(t)));

    await pg.start();
    await eventually('GraphQL to answer again', async () => (await t.gql('{ me { user { email } } }', {}, user.accessToken)).data?.me?.user.email === user.email);
    const bound = await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 2, maxPositionPct: 0.05 }) { isValid } }', {}, user.accessToken);
    expect(bound.data!.setExchangeConfig.isValid).toBe(true);
    await eventually('readyz to recover', async () => (await status(t, '/readyz')) === 200);
    await eventually('the strategy to be led again', () => leaderMetric(t));
    expect(unhandled).toEqual([]);
  });
});
