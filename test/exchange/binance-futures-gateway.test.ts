import { Writable } from 'node:stream';
import Decimal from 'decimal.js';
import pino from 'pino';
import { BinanceGatewayFactory } from '../../src/engine/exchange/binance-gateway-factory';
import type { BinanceFuturesGateway } from '../../src/engine/exchange/binance-futures-gateway';
import {
  AuthenticationError, ExchangeError, ExchangeUnavailableError, InsufficientMarginError, InvalidOrderError, IpBannedError,
  UnknownOutcomeError,
} from '../../src/engine/exchange/exchange-errors';
import type { OrderUpdateEvent, AccountUpdateEvent } from '../../src/engine/exchange/exchange-gateway';
import { FakeBinance } from '../support/fake-binance';

const SECRET = 'S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tXyZ1';
const KEY = 'KeyAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01';

describe('BinanceFuturesGateway against FakeBinance', () => {
  const fake = new FakeBinance();
  const logLines: string[] = [];
  const consoleLines: string[] = [];
  const logger = pino({ level: 'trace' }, new Writable({ write(chunk, _enc, cb) { logLines.push(String(chunk)); cb(); } }));
  let factory: BinanceGatewayFactory;
  let gw: BinanceFuturesGateway;
  let seq = 0;
  const clientId = (g: BinanceFuturesGateway) => `${g.clientOrderIdPrefix()}t${Date.now().toString(36)}${++seq}`;
  const newFactory = (timeoutMs = 2_000) => new BinanceGatewayFactory(
    { futuresUrl: fake.url, futuresTestnetUrl: fake.url, spotUrl: fake.url, spotTestnetUrl: fake.url, futuresWsUrl: fake.wsUrl, futuresTestnetWsUrl: fake.wsUrl },
    logger,
    { timeoutMs },
  );

  beforeAll(async () => {
    for (const method of ['log', 'info', 'warn', 'error'] as const) {
      jest.spyOn(console, method).mockImplementation((...args: unknown[]) => { consoleLines.push(args.map(String).join(' ')); });
    }
    await fake.start();
    fake.addAccount({ apiKey: KEY, apiSecret: SECRET, balance: '10000' });
    factory = newFactory();
    gw = factory.create({ apiKey: KEY, apiSecret: SECRET, testnet: false });
  });

  afterEach(() => fake.clearFaults());

  afterAll(async () => {
    await gw.close();
    await fake.stop();
    jest.restoreAllMocks();
  });

  it('reads account, filters, position mode and sets leverage', async () => {
    const account = await gw.getAccount();
    expect(account.walletBalance.toFixed()).toBe('10000');
    expect(account.equity.toFixed()).toBe('10000');
    expect(account.availableBalance.toFixed()).toBe('10000');

    const filters = await gw.getSymbolFilters('BTCUSDT');
    expect(filters.tickSize.toFixed()).toBe('0.1');
    expect(filters.stepSize.toFixed()).toBe('0.001');
    expect(filters.minQty.toFixed()).toBe('0.001');
    expect(filters.minNotional.toFixed()).toBe('100');
    await gw.getSymbolFilters('BTCUSDT');
    expect(fake.requests({ path: '/fapi/v1/exchangeInfo' })).toHaveLength(1);
    await expect(gw.getSymbolFilters('NOPEUSDT')).rejects.toBeInstanceOf(InvalidOrderError);

    expect(await gw.getPositionMode()).toBe('ONE_WAY');
    await gw.setLeverage('BTCUSDT', 5);
    expect(fake.account(KEY).leverageOf('BTCUSDT')).toBe(5);
    await expect(gw.setLeverage('BTCUSDT', 0)).rejects.toBeInstanceOf(InvalidOrderError);
    const flat = await gw.getPosition('BTCUSDT');
    expect(flat.positionAmt.isZero()).toBe(true);
    expect(flat.leverage).toBe(5);
  });

  it('reads key permissions, including a key that can withdraw', async () => {
    const perms = await gw.getKeyPermissions();
    expect(perms).toMatchObject({ canRead: true, futuresEnabled: true, canWithdraw: false, canTransferUniversal: false, ipRestricted: false });
    fake.addAccount({ apiKey: `${KEY}w`, apiSecret: SECRET, balance: '0', permissions: { enableWithdrawals: true, ipRestrict: true } });
    const risky = factory.create({ apiKey: `${KEY}w`, apiSecret: SECRET, testnet: false });
    expect(await risky.getKeyPermissions()).toMatchObject({ canWithdraw: true, ipRestricted: true });
  });

  it('places a MARKET order answered with its fill, finds it by client id, shows position and trades', async () => {
    fake.setPrice('BTCUSDT', '50000');
    const id = clientId(gw);
    // 0.0029 rounds down to the 0.001 step: never more than asked.
    const order = await gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.0029'), clientOrderId: id, reduceOnly: false });
    expect(order).toMatchObject({ status: 'FILLED', clientOrderId: id, side: 'BUY' });
    expect(order.executedQty.toFixed()).toBe('0.002');
    expect(order.avgPrice?.toFixed()).toBe('50000');
    expect(fake.requests({ method: 'POST', path: '/fapi/v1/order' }).at(-1)?.params).toMatchObject({ newOrderRespType: 'RESULT', quantity: '0.002', newClientOrderId: id });

    const found = await gw.getOrder('BTCUSDT', id);
    expect(found?.exchangeOrderId).toBe(order.exchangeOrderId);
    expect(await gw.getOrder('BTCUSDT', clientId(gw))).toBeNull();
    expect(await gw.cancelOrder('BTCUSDT', id)).toBeNull();
    expect(await gw.getOpenOrders('BTCUSDT')).toEqual([]);

    fake.setPrice('BTCUSDT', '51000');
    const pos = await gw.getPosition('BTCUSDT');
    expect(pos.positionAmt.toFixed()).toBe('0.002');
    expect(pos.entryPrice.toFixed()).toBe('50000');
    expect(pos.unrealizedPnl.toFixed()).toBe('2');

    const close = await gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: new Decimal('0.002'), clientOrderId: clientId(gw), reduceOnly: true });
    expect(close.status).toBe('FILLED');
    const trades = await gw.getUserTrades('BTCUSDT', Date.now() - 3600_000);
    expect(trades).toHaveLength(2);
    expect(trades[1].realizedPnl.toFixed()).toBe('2');
    expect(trades[1].commission.toFixed()).toBe('0.0408');
    const income = await gw.getIncome(Date.now() - 3600_000);
    expect(income.filter((i) => i.incomeType === 'COMMISSION')).toHaveLength(2);
    expect(income.find((i) => i.incomeType === 'REALIZED_PNL')?.income.toFixed()).toBe('2');
  });

  it('maps margin, min-notional, reduce-only and client-id refusals', async () => {
    const place = (quantity: string, reduceOnly = false, side: 'BUY' | 'SELL' = 'BUY') =>
      gw.placeMarketOrder({ symbol: 'BTCUSDT', side, quantity: new Decimal(quantity), clientOrderId: clientId(gw), reduceOnly });
    await expect(place('10')).rejects.toBeInstanceOf(InsufficientMarginError);
    await expect(place('0.001')).rejects.toMatchObject({ exchangeCode: -4164 });
    await expect(place('0.01', true, 'SELL')).rejects.toMatchObject({ exchangeCode: -2022 });
    await expect(gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.01'), clientOrderId: 'no-prefix', reduceOnly: false }))
      .rejects.toBeInstanceOf(InvalidOrderError);
  });

  it('reports an unknown or revoked key as an AuthenticationError', async () => {
    const stranger = factory.create({ apiKey: 'UnknownKeyUnknownKeyUnknownKeyUnknownKey', apiSecret: SECRET, testnet: false });
    const err = await stranger.getAccount().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as ExchangeError).exchangeCode).toBe(-2015);
    expect((err as Error).message).toMatch(/IP whitelist/);

    const wrongSecret = factory.create({ apiKey: KEY, apiSecret: `${SECRET}x`, testnet: false });
    await expect(wrongSecret.getAccount()).rejects.toMatchObject({ exchangeCode: -1022, kind: 'authentication' });

    fake.addAccount({ apiKey: `${KEY}r`, apiSecret: SECRET, balance: '100' });
    const revoked = factory.create({ apiKey: `${KEY}r`, apiSecret: SECRET, testnet: false });
    await revoked.getAccount();
    fake.revokeKey(`${KEY}r`);
    await expect(revoked.getAccount()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('recovers from -1021 by resyncing the shared clock once and retrying', async () => {
    fake.setServerTimeOffset(120_000);
    try {
      const before = fake.requestLog.length;
      await expect(gw.getAccount()).resolves.toBeDefined();
      const seen = fake.requestLog.slice(before).map((r) => `${r.path}:${r.code ?? r.status}`);
      expect(seen).toEqual(['/fapi/v3/account:-1021', '/fapi/v1/time:200', '/fapi/v3/account:200']);
      // Another gateway on the same base URL uses the shared offset: no -1021 at all.
      const other = factory.create({ apiKey: KEY, apiSecret: SECRET, testnet: false });
      const mark = fake.requestLog.length;
      await other.getAccount();
      expect(fake.requestLog.slice(mark).map((r) => r.code ?? r.status)).toEqual([200]);
    } finally {
      fake.setServerTimeOffset(0);
      await gw.getAccount(); // re-syncs back
    }
  });

  it('after a timeout the order is unknown, and getOrder by client id finds the one that executed', async () => {
    const quick = newFactory(300).create({ apiKey: KEY, apiSecret: SECRET, testnet: false });
    fake.injectFault({ kind: 'hang', method: 'POST', path: '/fapi/v1/order', apiKey: KEY });
    const id = clientId(quick);
    const err = await quick.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.002'), clientOrderId: id, reduceOnly: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownOutcomeError);
    expect((err as ExchangeError).action).toBe('reconcile');
    const found = await quick.getOrder('BTCUSDT', id);
    expect(found?.status).toBe('FILLED');
    expect(fake.ordersWithClientId(id)).toHaveLength(1);
    await quick.placeMarketOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: new Decimal('0.002'), clientOrderId: clientId(quick), reduceOnly: true });
  });

  it('tells 503 "Unknown error" (executed) from 503 "Service Unavailable" (not executed)', async () => {
    fake.injectFault({ kind: 'unknownAfter', method: 'POST', path: '/fapi/v1/order' });
    const id1 = clientId(gw);
    await expect(gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.002'), clientOrderId: id1, reduceOnly: false }))
      .rejects.toBeInstanceOf(UnknownOutcomeError);
    expect(fake.ordersWithClientId(id1)).toHaveLength(1);

    fake.injectFault({ kind: 'unavailable', method: 'POST', path: '/fapi/v1/order' });
    const id2 = clientId(gw);
    await expect(gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: new Decimal('0.002'), clientOrderId: id2, reduceOnly: true }))
      .rejects.toBeInstanceOf(ExchangeUnavailableError);
    expect(fake.ordersWithClientId(id2)).toHaveLength(0);

    fake.injectFault({ kind: 'resetAfter', method: 'POST', path: '/fapi/v1/order' });
    const id3 = clientId(gw);
    await expect(gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: new Decimal('0.002'), clientOrderId: id3, reduceOnly: true }))
      .rejects.toBeInstanceOf(UnknownOutcomeError);
    expect((await gw.getOrder('BTCUSDT', id3))?.status).toBe('FILLED');
    expect((await gw.getPosition('BTCUSDT')).positionAmt.isZero()).toBe(true);
  });

  it('on 418 every gateway of the process waits for Retry-After, then resumes', async () => {
    const second = factory.create({ apiKey: KEY, apiSecret: SECRET, testnet: false });
    fake.injectFault({ kind: 'ban', retryAfterSeconds: 1 });
    const mark = fake.requestLog.length;
    const err = await gw.getAccount().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IpBannedError);
    expect((err as IpBannedError).retryAfterMs).toBe(1000);
    expect(factory.traffic.pausedForMs).toBeGreaterThan(0);

    await expect(second.getAccount()).resolves.toBeDefined();
    // The second gateway never knocked on the banned door: one 418, then a success.
    expect(fake.requestLog.slice(mark).map((r) => r.status)).toEqual([418, 200]);
  });

  it('streams order and account updates, reconnects after a drop, and closes without leftovers', async () => {
    const orders: OrderUpdateEvent[] = [];
    const accounts: AccountUpdateEvent[] = [];
    const states: string[] = [];
    const stream = await gw.openUserDataStream({
      onOrderUpdate: (e) => orders.push(e),
      onAccountUpdate: (e) => accounts.push(e),
      onStateChange: (s) => states.push(s),
    });
    expect(stream.connected).toBe(true);
    expect(fake.userConnectionCount(KEY)).toBe(1);

    const id = clientId(gw);
    await gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.002'), clientOrderId: id, reduceOnly: false });
    await waitFor(() => orders.some((o) => o.fill?.exchangeOrderId && o.order.clientOrderId === id) && accounts.length > 0);
    const fill = orders.find((o) => o.order.clientOrderId === id && o.fill)!;
    expect(fill.order.status).toBe('FILLED');
    expect(fill.fill?.quantity.toFixed()).toBe('0.002');
    expect(fill.isLiquidation).toBe(false);
    expect(accounts.at(-1)?.positions[0].positionAmt.toFixed()).toBe('0.002');

    fake.dropUserConnections(KEY);
    await waitFor(() => states.includes('reconnecting'));
    await waitFor(() => stream.connected && fake.userConnectionCount(KEY) === 1);
    const id2 = clientId(gw);
    await gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'SELL', quantity: new Decimal('0.002'), clientOrderId: id2, reduceOnly: true });
    await waitFor(() => orders.some((o) => o.order.clientOrderId === id2 && o.fill));

    await stream.close();
    expect(stream.connected).toBe(false);
    expect(states.at(-1)).toBe('closed');
    await waitFor(() => fake.userConnectionCount(KEY) === 0);
  });

  it('never lets the key, the secret or a signed URL reach a log, an error or the console', async () => {
    const quick = newFactory(200).create({ apiKey: KEY, apiSecret: SECRET, testnet: false });
    const wrong = factory.create({ apiKey: KEY, apiSecret: `${SECRET}x`, testnet: false });
    fake.injectFault({ kind: 'hangBefore', path: '/fapi/v3/account', apiKey: KEY });
    const errors: unknown[] = [];
    // Sequential on purpose: each attempt must meet exactly the failure it is written for.
    const attempts = [
      () => quick.getAccount(),
      () => wrong.getAccount(),
      () => wrong.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.002'), clientOrderId: clientId(wrong), reduceOnly: false }),
      () => gw.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('100'), clientOrderId: clientId(gw), reduceOnly: false }),
    ];
    for (const attempt of attempts) await attempt().catch((e: unknown) => errors.push(e));
    expect(errors.length).toBe(4);
    const texts = [
      ...logLines, ...consoleLines,
      ...errors.flatMap((e) => [String(e), JSON.stringify(e), (e as Error).stack ?? '', JSON.stringify(Object.entries(e as object))]),
    ].join('\n');
    expect(logLines.some((l) => l.includes('binance call failed'))).toBe(true);
    expect(texts).not.toContain(SECRET);
    expect(texts).not.toContain(KEY);
    expect(texts).not.toMatch(/signature=/);
    expect(consoleLines).toEqual([]);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
