import { connectSocket } from '../support/graphql-client';
import { signUp } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

async function eventually<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The newcomer's path (README): sign up, verify, bind a paper account, watch the shared strategy trade on it. */
describe('first run on the simulated market with a paper account', () => {
  let t: TestApp;
  const mail = new MailCapture();

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        SMTP_URL: await mail.start(),
        ENGINE_ENABLED: 'true',
        MARKET_FEED: 'simulated',
        // A 15m candle every 30 ms, so the strategy signals within seconds.
        SIMULATED_FEED_SPEED: '30000',
        ENGINE_LEADER_CHECK_MS: '200',
      },
    });
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('trades signals on the new paper account and shows them through me and the subscriptions', async () => {
    const user = await signUp(t, mail);
    const bind = await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 3, maxPositionPct: 0.05 }) { isValid } }', {}, user.accessToken);
    expect(bind.data!.setExchangeConfig.isValid).toBe(true);
    const socket = connectSocket(t.url, user.accessToken);
    const orders = socket.subscribe('subscription { orderUpdated { status side clientOrderId } }');

    const order = await orders.next(60_000);
    expect(order.orderUpdated.clientOrderId).toMatch(/^paper-/);

    const me = await eventually(async () => {
      const res = await t.gql(
        '{ me { orders { items { status side } } trades { items { price quantity commission realizedPnl } } executions { status signalId } } }',
        {},
        user.accessToken,
      );
      const m = res.data?.me;
      return m && m.trades.items.length > 0 && m.executions.some((e: { status: string }) => e.status === 'PLACED') ? m : null;
    });
    expect(me.orders.items.some((o: { status: string }) => o.status === 'FILLED')).toBe(true);
    expect(Number(me.trades.items[0].commission)).toBeGreaterThan(0);
    const signals = await t.gql('{ signals(first: 5) { id action votes { witness } } }', {}, user.accessToken);
    expect(signals.data!.signals.length).toBeGreaterThan(0);
    expect(signals.data!.signals.map((s: { id: string }) => s.id)).toContain(me.executions.find((e: { status: string }) => e.status === 'PLACED').signalId);
    await socket.dispose();
  }, 90_000);
});
