import Decimal from 'decimal.js';
import pino from 'pino';
import { BinanceGatewayFactory } from '../../src/engine/exchange/binance-gateway-factory';
import type { BinanceFuturesGateway } from '../../src/engine/exchange/binance-futures-gateway';
import { ExecutionStatus, SignalAction } from '../../src/entities/enums';
import { taskWorld } from '../execution/support/task-world';
import { BTCUSDT_RULES, FakeBinance } from '../support/fake-binance';
import { createMigratedOrm } from '../support/test-database';

const SECRET = 'S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tXyZ1';
const d = (v: Decimal.Value) => new Decimal(v);

/**
 * MARKET_LOT_SIZE stricter than LOT_SIZE (a coarser step, a smaller maximum), as
 * Binance serves for some symbols: what the exchange actually receives from the
 * real Binance gateway, alone and under a user's task.
 */
describe('market orders under a MARKET_LOT_SIZE stricter than LOT_SIZE', () => {
  const fake = new FakeBinance();
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  let factory: BinanceGatewayFactory;
  const gateways: BinanceFuturesGateway[] = [];
  let accounts = 0;

  beforeAll(async () => {
    db = await createMigratedOrm('marketlot');
    await fake.start();
    // LOT_SIZE 0.001 up to 1000; MARKET_LOT_SIZE 0.01 from 0.01 up to 2.005 (off its own step on purpose).
    fake.state.rules.set('BTCUSDT', { ...BTCUSDT_RULES, market: { stepSize: '0.01', minQty: '0.01', maxQty: '2.005' } });
    factory = new BinanceGatewayFactory(
      { futuresUrl: fake.url, futuresTestnetUrl: fake.url, spotUrl: fake.url, spotTestnetUrl: fake.url, futuresWsUrl: fake.wsUrl, futuresTestnetWsUrl: fake.wsUrl },
      pino({ level: 'silent' }),
      { timeoutMs: 2_000 },
    );
  });
  afterEach(() => fake.setPrice('BTCUSDT', '50000'));
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await fake.stop();
    await db.close();
  });

  /** A fresh exchange account, optionally holding a position, and the real gateway onto it. */
  function account(balance: Decimal.Value, position?: Decimal.Value) {
    const apiKey = `MarketLotKey${String(++accounts).padStart(52, '0')}`;
    const held = fake.addAccount({ apiKey, apiSecret: SECRET, balance: d(balance) });
    if (position) held.positions.set('BTCUSDT', { amt: d(position), entry: d('50000'), updateTime: Date.now() });
    const gateway = factory.create({ apiKey, apiSecret: SECRET, testnet: false });
    gateways.push(gateway);
    const sent = () => fake.requests({ method: 'POST', path: '/fapi/v1/order', apiKey }).map((r) => [r.params.side, r.params.quantity, r.params.reduceOnly ?? 'false']);
    return { apiKey, gateway, sent, position: () => fake.account(apiKey).position('BTCUSDT').amt.toFixed() };
  }

  it('the gateway reads the stricter rule of the two', async () => {
    const { gateway } = account('10000');
    const filters = await gateway.getSymbolFilters('BTCUSDT');
    expect([filters.stepSize.toFixed(), filters.minQty.toFixed(), filters.maxQty.toFixed()]).toEqual(['0.01', '0.01', '2.005']);
  });

  it('a quantity between market steps is sent rounded DOWN to the market step, never to the finer lot step or up', async () => {
    const acct = account('10000');
    const id = `${acct.gateway.clientOrderIdPrefix()}mls${Date.now().toString(36)}`;
    const order = await acct.gateway.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: d('0.0299'), clientOrderId: id, reduceOnly: false });
    // LOT_SIZE alone would send 0.029, which Binance refuses for a MARKET order (-1111); nearest would send 0.03.
    expect(acct.sent()).toEqual([['BUY', '0.02', 'false']]);
    expect(order.executedQty.toFixed()).toBe('0.02');
  });

  it('the exit of a short rounds its size DOWN too: never a BUY larger than the short it reduces', async () => {
    // On the lot step (as every position is), between two market steps.
    const acct = account('10000', '-0.029');
    const id = `${acct.gateway.clientOrderIdPrefix()}mlx${Date.now().toString(36)}`;
    await acct.gateway.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: d('0.029'), clientOrderId: id, reduceOnly: true });
    expect(acct.sent()).toEqual([['BUY', '0.02', 'true']]);
    expect(acct.position()).toBe('-0.009');
  });

  it("a user's OPEN is sized on the market step and capped at the market maximum, rounded down to its step", async () => {
    fake.setPrice('BTCUSDT', '30000');
    const small = account('10000');
    const w = await taskWorld(db.orm, small.gateway, { referencePrice: () => fake.price('BTCUSDT') });
    // 10,000 × 10 % × 2 / 30,000 = 0.0666… BTC: 0.066 on the lot step, 0.06 on the market step.
    expect((await w.run(SignalAction.OPEN_LONG)).status).toBe(ExecutionStatus.PLACED);
    expect(small.sent()).toEqual([['BUY', '0.06', 'false']]);

    const large = account('2000000');
    const big = await taskWorld(db.orm, large.gateway, { referencePrice: () => fake.price('BTCUSDT') });
    // 2,000,000 × 10 % × 2 / 30,000 = 13.33 BTC, above the market maximum 2.005: 2 on the market step.
    expect((await big.run(SignalAction.OPEN_SHORT)).status).toBe(ExecutionStatus.PLACED);
    expect(large.sent()).toEqual([['SELL', '2', 'false']]);
    expect(large.position()).toBe('-2');
  });

  it("a user's CLOSE leaves the dust below one market step open, says so, and the next OPEN is placed, not held up by it", async () => {
    const acct = account('10100', '-0.029');
    const w = await taskWorld(db.orm, acct.gateway, { referencePrice: () => fake.price('BTCUSDT') });
    const close = await w.run(SignalAction.CLOSE);
    expect(acct.sent()).toEqual([['BUY', '0.02', 'true']]);
    expect(close).toMatchObject({
      status: ExecutionStatus.PLACED,
      reason: 'closed 0.02 of 0.029 BTCUSDT; 0.009 stays open, below the smallest market order (0.01, in steps of 0.01); it does not hold up the next OPEN',
    });
    expect(await w.position()).toMatchObject({ side: 'SHORT', quantity: '0.0090000000', closePending: true });

    // A later CLOSE has nothing a market order can take: nothing is sent to be refused.
    expect(await w.run(SignalAction.CLOSE)).toMatchObject({
      status: ExecutionStatus.SKIPPED,
      reason: 'the position 0.009 BTC is below the smallest market order (0.01, in steps of 0.01): a market order cannot close it',
    });
    const open = await w.run(SignalAction.OPEN_SHORT);
    expect(open.status).toBe(ExecutionStatus.PLACED);
    // About 10,100 × 10 % × 2 / 50,000 = 0.0404 BTC, 0.04 on the market step, on top of the dust.
    expect(acct.sent()).toEqual([['BUY', '0.02', 'true'], ['SELL', '0.04', 'false']]);
    expect(acct.position()).toBe('-0.049');
  });
});
