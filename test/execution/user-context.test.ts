import Decimal from 'decimal.js';
import pino from 'pino';
import { Exchange } from '../../src/entities/enums';
import type { UserExchangeConfig } from '../../src/entities/user-exchange-config.entity';
import type { AccountSnapshot, ExchangeGateway } from '../../src/engine/exchange/exchange-gateway';
import { UserContextCache } from '../../src/engine/execution/user-context';

const d = (v: string) => new Decimal(v);

/** A gateway that only answers account reads, counting them. */
function accountGateway(snapshot: AccountSnapshot) {
  const gateway = { reads: 0, getAccount: async () => { gateway.reads += 1; return snapshot; }, close: async () => undefined };
  return gateway;
}

const config = { id: 'c1', user: { id: 'u1' }, updatedAt: new Date(0), exchange: Exchange.BINANCE, leverage: 3, maxPositionPct: '0.1' } as unknown as UserExchangeConfig;

describe('user context account cache', () => {
  let now = 0;
  const gateway = accountGateway({ equity: d('1000'), walletBalance: d('1000'), availableBalance: d('900'), unrealizedPnl: d('0') });
  const cache = new UserContextCache({
    opener: { open: async () => gateway as unknown as ExchangeGateway },
    logger: pino({ level: 'silent' }),
    accountMaxAgeMs: 60_000,
    now: () => now,
  });

  it('reads the account once, then serves it until it is too old', async () => {
    const ctx = await cache.get(config);
    expect((await cache.account(ctx)).equity.toString()).toBe('1000');
    now = 30_000;
    await cache.account(ctx);
    expect(gateway.reads).toBe(1);
    now = 61_000;
    await cache.account(ctx);
    expect(gateway.reads).toBe(2);
  });

  it('keeps the snapshot current from ACCOUNT_UPDATE: equity = wallet + unrealized, no REST read', async () => {
    const ctx = await cache.get(config);
    cache.noteAccountUpdate('u1', {
      eventTime: new Date(now),
      reason: 'ORDER',
      walletBalance: d('950.5'),
      balanceChanges: [],
      positions: [{ symbol: 'BTCUSDT', positionAmt: d('0.01'), entryPrice: d('50000'), markPrice: null, unrealizedPnl: d('-12.25'), leverage: null }],
    });
    await new Promise((r) => setImmediate(r));
    const account = await cache.account(ctx);
    expect(account.equity.toString()).toBe('938.25');
    expect(account.availableBalance.toString()).toBe('900');
    expect(gateway.reads).toBe(2);
  });

  it('drops the snapshot when an update carries no wallet figure, so the next signal reads over REST', async () => {
    const ctx = await cache.get(config);
    cache.noteAccountUpdate('u1', { eventTime: new Date(now), reason: 'FUNDING_FEE', walletBalance: null, balanceChanges: [], positions: [] });
    await new Promise((r) => setImmediate(r));
    await cache.account(ctx);
    expect(gateway.reads).toBe(3);
  });
});
