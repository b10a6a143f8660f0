import { codeOf, connectSocket } from '../support/graphql-client';
import { signInAdmin, signUp, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

const ADMIN = { email: 'ops@example.com', password: 'ops password 123' };
const BROADCAST = `mutation($i: ManualSignalInput!) { broadcastSignal(input: $i) {
  total placed skipped failed durationMs signal { id action source }
  results { userId status reason latencyMs dispatchRank fillPrice slippage order { status side quantity executedQty avgPrice reduceOnly clientOrderId } } } }`;
const ME = `{ me { positions { symbol side quantity entryPrice leverage } orders { items { status side quantity reduceOnly signalId } nextCursor }
  executions { status reason signalId dispatchRank fillPrice slippage } } }`;

describe('broadcastSignal on paper accounts', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let admin: SignedInUser;
  let alice: SignedInUser;
  let bob: SignedInUser;

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start(), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    t.app.services.prices.set('BTCUSDT', '50000');
    admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    alice = await signUp(t, mail);
    bob = await signUp(t, mail);
    for (const u of [alice, bob]) {
      const res = await t.gql('mutation { setExchangeConfig(input: { exchange: PAPER, leverage: 5, maxPositionPct: 0.05 }) { isValid exchange } }', {}, u.accessToken);
      expect(res.data!.setExchangeConfig).toEqual({ isValid: true, exchange: 'PAPER' });
    }
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('refuses a non-admin with FORBIDDEN', async () => {
    expect(codeOf(await t.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, alice.accessToken))).toBe('FORBIDDEN');
  });

  it('opens then closes a position on every eligible account, and each user sees only their own', async () => {
    const socket = connectSocket(t.url, alice.accessToken);
    const results = socket.subscribe('subscription { executionResult { userId status signalId } }');
    await new Promise((r) => setTimeout(r, 200));

    const open = await t.gql(BROADCAST, { i: { action: 'OPEN_LONG', strength: 1, reason: 'test' } }, admin.accessToken);
    expect(open.errors).toBeUndefined();
    const report = open.data!.broadcastSignal;
    expect(report).toMatchObject({ total: 2, placed: 2, skipped: 0, failed: 0, signal: { action: 'OPEN_LONG', source: 'MANUAL' } });
    // 10,000 USDT × 5% × 5x = 2,500 USDT at 50,000 → 0.05 BTC.
    for (const r of report.results) expect(r.order).toMatchObject({ status: 'FILLED', side: 'BUY', quantity: '0.05', executedQty: '0.05', avgPrice: '50000', reduceOnly: false });
    // Paper fills at the reference price: no slippage; each user has their own place in the dispatch order.
    expect(report.results.map((r: { fillPrice: string; slippage: number }) => [r.fillPrice, r.slippage])).toEqual([['50000', 0], ['50000', 0]]);
    expect(report.results.map((r: { dispatchRank: number }) => r.dispatchRank).sort()).toEqual([0, 1]);

    const event = await results.next();
    expect(event.executionResult).toEqual({ userId: alice.id, status: 'PLACED', signalId: report.signal.id });

    const me = (await t.gql(ME, {}, alice.accessToken)).data!.me;
    expect(me.positions).toEqual([{ symbol: 'BTCUSDT', side: 'LONG', quantity: '0.05', entryPrice: '50000', leverage: 5 }]);
    expect(me.orders.items).toHaveLength(1);
    expect(me.executions[0]).toMatchObject({ status: 'PLACED', signalId: report.signal.id, fillPrice: '50000', slippage: 0 });
    expect([0, 1]).toContain(me.executions[0].dispatchRank);

    const again = await t.gql(BROADCAST, { i: { action: 'OPEN_LONG' } }, admin.accessToken);
    expect(again.data!.broadcastSignal).toMatchObject({ placed: 0, skipped: 2 });
    expect(again.data!.broadcastSignal.results[0].reason).toMatch(/already long/);

    t.app.services.prices.set('BTCUSDT', '51000');
    const close = await t.gql(BROADCAST, { i: { action: 'CLOSE' } }, admin.accessToken);
    expect(close.data!.broadcastSignal).toMatchObject({ total: 2, placed: 2 });
    for (const r of close.data!.broadcastSignal.results) expect(r.order).toMatchObject({ side: 'SELL', quantity: '0.05', reduceOnly: true, status: 'FILLED' });
    expect((await t.gql(ME, {}, bob.accessToken)).data!.me.positions).toEqual([]);

    expect(results.events.every((e: { executionResult: { userId: string } }) => e.executionResult.userId === alice.id)).toBe(true);
    await socket.dispose();
  });
});
