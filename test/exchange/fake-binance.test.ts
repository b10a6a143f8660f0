import { USDMClient, WebsocketClient } from 'binance';
import Decimal from 'decimal.js';
import pino from 'pino';
import { BinanceGatewayFactory } from '../../src/engine/exchange/binance-gateway-factory';
import { binanceWsLogger } from '../../src/engine/exchange/binance-user-data-stream';
import { FakeBinance } from '../support/fake-binance';

const SECRET = 'fakeSecretfakeSecretfakeSecretfakeSecret';

describe('FakeBinance', () => {
  const fake = new FakeBinance();
  const logger = pino({ level: 'silent' });

  beforeAll(() => fake.start());
  afterAll(() => fake.stop());
  afterEach(() => fake.clearFaults());

  it('serves klines over REST and pushes them on /market/stream, resubscribing after a drop', async () => {
    const base = 1_700_000_000_000;
    fake.setKlines('BTCUSDT', '15m', [0, 1, 2].map((i) => ({
      openTime: base + i * 900_000, open: '50000', high: '50100', low: '49900', close: `${50000 + i}`, volume: '12.5', closeTime: base + (i + 1) * 900_000 - 1,
    })));
    const rest = new USDMClient({ baseUrl: fake.url });
    const rows = await rest.getKlines({ symbol: 'BTCUSDT', interval: '15m', limit: 2 });
    expect(rows.map((r) => r[4])).toEqual(['50001', '50002']);

    const ws = new WebsocketClient({ wsUrl: fake.wsUrl, reconnectTimeout: 50 }, binanceWsLogger(logger));
    const closes: Array<{ close: string; closed: boolean }> = [];
    ws.on('message', (event: unknown) => {
      const e = event as { e?: string; k?: { c: string; x: boolean } };
      if (e.e === 'kline' && e.k) closes.push({ close: e.k.c, closed: e.k.x });
    });
    try {
      await ws.subscribeKlines('BTCUSDT', '15m', 'usdm');
      await waitFor(() => fake.pushKline(kline(base + 3 * 900_000, '50003', false)) > 0 && closes.length > 0);
      expect(closes[0]).toEqual({ close: '50003', closed: false });

      expect(fake.dropMarketConnections()).toBe(1);
      await waitFor(() => fake.pushKline(kline(base + 3 * 900_000, '50004', true)) > 0 && closes.some((c) => c.closed));
      expect(closes.at(-1)).toEqual({ close: '50004', closed: true });
      // A closed candle joins the REST history.
      expect((await rest.getKlines({ symbol: 'BTCUSDT', interval: '15m' })).at(-1)?.[4]).toBe('50004');
    } finally {
      ws.closeAll(true);
    }
  });

  it('rests LIMIT orders, refuses a duplicate open client id and fills when the price crosses', async () => {
    fake.addAccount({ apiKey: 'limitKey', apiSecret: SECRET, balance: '5000' });
    const client = new USDMClient({ api_key: 'limitKey', api_secret: SECRET, baseUrl: fake.url });
    const id = `${client.getOrderIdPrefix()}limit1`;
    const placed = await client.submitNewOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: 0.01, price: 49000, newClientOrderId: id });
    expect(placed.status).toBe('NEW');
    await expect(client.submitNewOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: 0.01, price: 49000, newClientOrderId: id }))
      .rejects.toMatchObject({ code: -4116 });
    expect(await client.getAllOpenOrders({ symbol: 'BTCUSDT' })).toHaveLength(1);
    fake.setPrice('BTCUSDT', 48900);
    expect((await client.getOrder({ symbol: 'BTCUSDT', origClientOrderId: id })).status).toBe('FILLED');
    expect(fake.account('limitKey').position('BTCUSDT').entry.toFixed()).toBe('48900');
    fake.setPrice('BTCUSDT', 50000);
    expect(client.getRateLimitStates()['x-mbx-used-weight-1m']).toBeGreaterThan(0);
    await expect(client.submitNewOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'STOP_MARKET', quantity: 0.01, stopPrice: 51000 }))
      .rejects.toMatchObject({ code: -4120 });
  });

  it('answers 429 with Retry-After once the IP weight budget is spent', async () => {
    const tight = new FakeBinance({ weightLimitPerMinute: 3 });
    await tight.start();
    try {
      const rest = new USDMClient({ baseUrl: tight.url });
      await rest.getServerTime();
      await rest.getExchangeInfo();
      await rest.getServerTime();
      const err = await rest.getServerTime().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: -1003 });
      expect(Number((err as { headers: Record<string, string> }).headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await tight.stop();
    }
  });

  it('serves many accounts concurrently under injected latency', async () => {
    const factory = new BinanceGatewayFactory({ futuresUrl: fake.url, futuresTestnetUrl: fake.url, spotUrl: fake.url, spotTestnetUrl: fake.url, futuresWsUrl: fake.wsUrl, futuresTestnetWsUrl: fake.wsUrl }, logger);
    const keys = Array.from({ length: 200 }, (_, i) => `bulk${i}`);
    for (const k of keys) fake.addAccount({ apiKey: k, apiSecret: SECRET, balance: '1000' });
    fake.setLatency(50);
    const gws = keys.map((k) => factory.create({ apiKey: k, apiSecret: SECRET, testnet: false }));
    const results = await Promise.all(gws.map((g, i) =>
      g.placeMarketOrder({ symbol: 'BTCUSDT', side: 'BUY', quantity: new Decimal('0.003'), clientOrderId: `${g.clientOrderIdPrefix()}bulk${i}`, reduceOnly: false })));
    expect(results.every((r) => r.status === 'FILLED')).toBe(true);
    expect(new Set(fake.requests({ method: 'POST', path: '/fapi/v1/order' }).map((r) => r.params.newClientOrderId).filter((id) => id?.includes('bulk'))).size).toBe(200);
  });
});

function kline(openTime: number, close: string, closed: boolean) {
  return { symbol: 'BTCUSDT', interval: '15m', openTime, closeTime: openTime + 899_999, open: '50000', high: '50100', low: '49900', close, volume: '1', closed };
}

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
