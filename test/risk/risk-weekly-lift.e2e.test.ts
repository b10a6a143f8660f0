import { signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { connectSocket, type SocketClient } from '../support/graphql-client';
import { eventually } from '../support/eventually';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'risk-week-admin@example.com', password: 'risk week admin password' };
const BROADCAST = 'mutation($a: SignalAction!) { broadcastSignal(input: { action: $a }) { placed } }';
const RISK = '{ me { risk { isLocked lockedReason } riskEvents { kind reason } } }';
const DAY = 86_400_000;

/** Monday 00:00 UTC of the ISO week holding `at`. */
const weekStart = (at: Date) => {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * DAY);
};

/**
 * A weekly loss lock outlives the day it was reached and lifts by itself at
 * the next ISO week, with no signal and no admin: the scheduler's lift job on
 * a business clock the test moves.
 */
describe('a weekly loss lock', () => {
  const mail = new MailCapture();
  let t: TestApp;
  let admin: SignedInUser;
  let user: SignedInUser;
  let socket: SocketClient;
  const realWeek = weekStart(new Date());
  // The business clock starts on the Tuesday of this week, at noon, and is moved from there.
  let businessNow = new Date(realWeek.getTime() + DAY + 12 * 3_600_000);
  const started = Date.now();
  const clock = { now: () => new Date(businessNow.getTime() + (Date.now() - started)) };

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      env: {
        SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, ENGINE_ENABLED: 'true', MARKET_FEED: 'simulated',
        SIMULATED_FEED_SPEED: '0.001', ENGINE_LEADER_CHECK_MS: '200',
        // The week's limit is the one under test: the day's and the drawdown's stay out of its way.
        RISK_MAX_WEEKLY_LOSS_PCT: '0.03', RISK_MAX_DAILY_LOSS_PCT: '0.5', RISK_MAX_DRAWDOWN: '0.5',
      },
    });
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    user = await signUp(t, mail);
    await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 5, maxPositionPct: 0.05 }) { isValid } }', {}, user.accessToken);
    socket = connectSocket(t.url, user.accessToken);
  });
  afterAll(async () => {
    await socket.dispose();
    await t.stop();
    await mail.stop();
  });

  const risk = async () => (await t.gql(RISK, {}, user.accessToken)).data!.me;
  /** Runs the scheduler's lift job for this instant and waits until it has finished. */
  const liftJobAt = async (at: Date) => {
    await t.app.services.jobs.trigger('risk-lock-lifts', at);
    await eventually('the lift job to run', async () => {
      const rows = await t.app.services.orm.em.fork().execute<Array<{ status: string }>>(
        "select status from job_runs where job = 'risk-lock-lifts' and scheduled_for = ?", [at],
      );
      return rows[0]?.status === 'DONE';
    });
  };

  it('holds through the rest of the week and lifts at the next Monday, by itself, with its event and mail', async () => {
    const events = socket.subscribe('subscription { riskStateChanged { isLocked lockedReason } }');
    t.app.services.prices.set('BTCUSDT', '50000');
    expect((await t.gql(BROADCAST, { a: 'OPEN_LONG' }, admin.accessToken)).data!.broadcastSignal).toMatchObject({ placed: 1 });
    // A 20 % fall on 5x of 5 %: about 5 % of the week's starting equity is lost, over the 3 % weekly limit.
    t.app.services.prices.set('BTCUSDT', '40000');
    expect((await t.gql(BROADCAST, { a: 'CLOSE' }, admin.accessToken)).data!.broadcastSignal).toMatchObject({ placed: 1 });
    await t.app.services.reconciler.reconcileAll();
    await eventually('the weekly lock', async () => (await risk()).risk.isLocked);
    expect((await risk()).risk.lockedReason).toMatch(/^weekly loss [\d,.]+ USDT = [\d.]+ % of start-of-week equity [\d,.]+, limit 3 %$/);

    // Thursday: a new day, the same week. The daily lift job runs and leaves the weekly lock alone; OPENs still skip.
    businessNow = new Date(realWeek.getTime() + 3 * DAY + 60_000);
    await liftJobAt(new Date(realWeek.getTime() + 3 * DAY));
    expect((await risk()).risk.isLocked).toBe(true);
    const open = await t.gql('mutation { broadcastSignal(input: { action: OPEN_LONG }) { results { userId status reason } } }', {}, admin.accessToken);
    expect(open.data!.broadcastSignal.results).toEqual([
      { userId: user.id, status: 'SKIPPED', reason: expect.stringMatching(/^risk locked: weekly loss /) },
    ]);

    // The next Monday: lifted by the job, no signal and no admin.
    const seen = events.events.length;
    businessNow = new Date(realWeek.getTime() + 7 * DAY + 60_000);
    await liftJobAt(new Date(realWeek.getTime() + 7 * DAY));
    const after = await risk();
    expect(after.risk).toEqual({ isLocked: false, lockedReason: null });
    expect(after.riskEvents.map((e: { kind: string }) => e.kind)).toEqual(['LIFTED', 'LOCKED']);
    expect(after.riskEvents[0].reason).toBe('weekly loss lock lifted: a new ISO week began');
    await eventually('the lift on the subscription', async () =>
      events.events.slice(seen).some((e: { riskStateChanged: { isLocked: boolean } }) => e.riskStateChanged.isLocked === false));
    await mail.waitFor(user.email, /(Trading resumed)/);
  });
});
