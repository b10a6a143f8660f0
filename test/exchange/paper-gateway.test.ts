import { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import pino from 'pino';
import { ormOptions } from '../../src/db/orm-options';
import { PaperFill, User } from '../../src/entities';
import { InsufficientMarginError, InvalidOrderError } from '../../src/engine/exchange/exchange-errors';
import type { OrderUpdateEvent } from '../../src/engine/exchange/exchange-gateway';
import { PaperGateway, PaperUserDataHub, type PriceSource } from '../../src/engine/exchange/paper-gateway';
import { createMigratedOrm, type TestDatabase } from '../support/test-database';

describe('PaperGateway', () => {
  let orm: MikroORM;
  let db: TestDatabase;
  let closeDb: () => Promise<void>;
  const logger = pino({ level: 'silent' });
  let price = new Decimal('50000');
  const prices: PriceSource = { latestPrice: (symbol) => (symbol === 'BTCUSDT' ? price : null) };
  let n = 0;

  beforeAll(async () => {
    ({ orm, db, close: closeDb } = await createMigratedOrm('paper'));
  });
  afterAll(async () => closeDb());
  beforeEach(() => { price = new Decimal('50000'); });

  async function newUser(): Promise<string> {
    const em = orm.em.fork();
    const user = em.create(User, { email: `paper${++n}@example.com`, passwordHash: 'x' });
    await em.flush();
    return user.id;
  }
  const gateway = (userId: string, hub?: PaperUserDataHub, o: MikroORM = orm) => new PaperGateway({ em: o.em, userId, prices, logger, hub });
  const order = (side: 'BUY' | 'SELL', qty: string, id: string, reduceOnly = false) =>
    ({ symbol: 'BTCUSDT', side, quantity: new Decimal(qty), clientOrderId: id, reduceOnly });

  it('opens and closes a long with realized PnL and taker fees', async () => {
    const gw = gateway(await newUser());
    await gw.setLeverage('BTCUSDT', 5);
    const open = await gw.placeMarketOrder(order('BUY', '0.1', 'paper-l1'));
    expect(open).toMatchObject({ status: 'FILLED', clientOrderId: 'paper-l1' });
    expect(open.avgPrice?.toFixed()).toBe('50000');
    // fee 0.1 × 50000 × 0.0004 = 2
    expect((await gw.getAccount()).walletBalance.toFixed()).toBe('9998');

    price = new Decimal('51000');
    const pos = await gw.getPosition('BTCUSDT');
    expect(pos).toMatchObject({ leverage: 5 });
    expect(pos.positionAmt.toFixed()).toBe('0.1');
    expect(pos.unrealizedPnl.toFixed()).toBe('100');
    const mid = await gw.getAccount();
    expect(mid.equity.toFixed()).toBe('10098');
    expect(mid.availableBalance.toFixed()).toBe('9078'); // 10098 − 0.1 × 51000 / 5

    await gw.placeMarketOrder(order('SELL', '0.1', 'paper-l2', true));
    // +100 realized − 2.04 fee
    const end = await gw.getAccount();
    expect(end.walletBalance.toFixed()).toBe('10095.96');
    expect(end.unrealizedPnl.isZero()).toBe(true);
    const trades = await gw.getUserTrades('BTCUSDT', 0);
    expect(trades.map((t) => [t.side, t.realizedPnl.toFixed(), t.commission.toFixed()])).toEqual([['BUY', '0', '2'], ['SELL', '100', '2.04']]);
    const income = await gw.getIncome(0);
    expect(income.map((i) => `${i.incomeType}:${i.income.toFixed()}`)).toEqual(['COMMISSION:-2', 'REALIZED_PNL:100', 'COMMISSION:-2.04']);
  });

  it('opens, adds to and flips a short with a weighted entry', async () => {
    const gw = gateway(await newUser());
    await gw.setLeverage('BTCUSDT', 10);
    await gw.placeMarketOrder(order('SELL', '0.1', 'paper-s1'));
    price = new Decimal('52000');
    await gw.placeMarketOrder(order('SELL', '0.1', 'paper-s2'));
    let pos = await gw.getPosition('BTCUSDT');
    expect(pos.positionAmt.toFixed()).toBe('-0.2');
    expect(pos.entryPrice.toFixed()).toBe('51000');

    price = new Decimal('49000');
    // Buys 0.3: closes 0.2 short (+400) and opens 0.1 long at 49000.
    const flip = await gw.placeMarketOrder(order('BUY', '0.3', 'paper-s3'));
    expect(flip.executedQty.toFixed()).toBe('0.3');
    pos = await gw.getPosition('BTCUSDT');
    expect(pos.positionAmt.toFixed()).toBe('0.1');
    expect(pos.entryPrice.toFixed()).toBe('49000');
    const trades = await gw.getUserTrades('BTCUSDT', 0);
    expect(trades.at(-1)?.realizedPnl.toFixed()).toBe('400');
    // fees: 2 + 2.08 + 5.88
    expect((await gw.getAccount()).walletBalance.toFixed()).toBe('10390.04');
  });

  it('fills a client order id once, even when the same order is sent concurrently', async () => {
    const userId = await newUser();
    const gw = gateway(userId);
    const results = await Promise.all([1, 2, 3, 4].map(() => gw.placeMarketOrder(order('BUY', '0.01', 'paper-dup'))));
    expect(new Set(results.map((r) => r.exchangeOrderId)).size).toBe(1);
    const again = await gw.placeMarketOrder(order('BUY', '0.01', 'paper-dup'));
    expect(again.exchangeOrderId).toBe(results[0].exchangeOrderId);
    const count = await orm.em.fork().count(PaperFill, { user: userId }, { filters: { owner: { userId } } });
    expect(count).toBe(1);
    expect((await gw.getPosition('BTCUSDT')).positionAmt.toFixed()).toBe('0.01');
    expect((await gw.getOrder('BTCUSDT', 'paper-dup'))?.status).toBe('FILLED');
    expect(await gw.getOrder('BTCUSDT', 'paper-none')).toBeNull();
  });

  it('enforces margin, minimum notional and reduce-only', async () => {
    const gw = gateway(await newUser());
    // Leverage 1: 10000 USDT cannot buy 0.2 BTC at 50000.
    await expect(gw.placeMarketOrder(order('BUY', '0.2', 'paper-m1'))).rejects.toBeInstanceOf(InsufficientMarginError);
    await expect(gw.placeMarketOrder(order('BUY', '0.001', 'paper-m2'))).rejects.toMatchObject({ exchangeCode: -4164 });
    await expect(gw.placeMarketOrder(order('SELL', '0.01', 'paper-m3', true))).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(gw.getPosition('ETHUSDT')).rejects.toBeInstanceOf(InvalidOrderError);
    expect((await gw.getAccount()).walletBalance.toFixed()).toBe('10000');
    // A refused order leaves no trace, so the same id can be used once the reason is gone.
    await gw.setLeverage('BTCUSDT', 2);
    await expect(gw.placeMarketOrder(order('BUY', '0.2', 'paper-m1'))).resolves.toMatchObject({ status: 'FILLED' });
  });

  it('emits fills on the in-process user-data stream', async () => {
    const userId = await newUser();
    const hub = new PaperUserDataHub();
    const events: OrderUpdateEvent[] = [];
    const listener = gateway(userId, hub);
    const stream = await listener.openUserDataStream({ onOrderUpdate: (e) => events.push(e), onAccountUpdate: () => undefined });
    await gateway(userId, hub).placeMarketOrder(order('BUY', '0.01', 'paper-e1'));
    expect(events).toHaveLength(1);
    expect(events[0].fill?.quantity.toFixed()).toBe('0.01');
    await stream.close();
    expect(stream.connected).toBe(false);
    await gateway(userId, hub).placeMarketOrder(order('BUY', '0.01', 'paper-e2'));
    expect(events).toHaveLength(1);
  });

  it('keeps its state across a new ORM and gateway (restart)', async () => {
    const userId = await newUser();
    await gateway(userId).placeMarketOrder(order('BUY', '0.05', 'paper-r1'));
    const restarted = await MikroORM.init(ormOptions(db.url));
    try {
      const gw = gateway(userId, undefined, restarted);
      const pos = await gw.getPosition('BTCUSDT');
      expect(pos.positionAmt.toFixed()).toBe('0.05');
      expect(pos.entryPrice.toFixed()).toBe('50000');
      expect((await gw.getAccount()).walletBalance.toFixed()).toBe('9999');
      const again = await gw.placeMarketOrder(order('BUY', '0.05', 'paper-r1'));
      expect(again.executedQty.toFixed()).toBe('0.05');
      expect((await gw.getPosition('BTCUSDT')).positionAmt.toFixed()).toBe('0.05');
    } finally {
      await restarted.close(true);
    }
  });
});
