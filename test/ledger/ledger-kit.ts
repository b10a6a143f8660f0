import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { createLogger } from '../../src/config/logger';
import { EngineEvents, type EngineEvent } from '../../src/engine/engine-events';
import type { OrderResult, OrderUpdateEvent, TradeFill } from '../../src/engine/exchange/exchange-gateway';
import type { ConversionRates } from '../../src/engine/ledger/conversion-rates';
import { Ledger } from '../../src/engine/ledger/ledger';
import { AuditService } from '../../src/services/audit.service';

export const logger = createLogger('silent');
export const d = (v: Decimal.Value) => new Decimal(v);
/** A fixed clock: every fact of these tests happens on 2026-03-02 (a Monday), UTC. */
export const T0 = Date.UTC(2026, 2, 2, 10, 0, 0);
export const at = (seconds: number) => new Date(T0 + seconds * 1000);

/** Prices other assets at a fixed rate (BNB at 600 USDT) or not at all. */
export class FixedRates implements ConversionRates {
  constructor(public rates: Record<string, string | null> = { BNB: '600' }) {}
  async usdtValue(asset: string, amount: Decimal): Promise<Decimal | null> {
    if (asset === 'USDT') return amount;
    const rate = this.rates[asset];
    return rate ? amount.times(rate) : null;
  }
}

export function ledgerOn(orm: MikroORM, rates: ConversionRates = new FixedRates()) {
  const events = new EngineEvents(logger);
  const seen: EngineEvent[] = [];
  for (const type of ['FillRecorded', 'PositionClosed', 'BalanceChanged', 'MovementRecorded', 'OrderChanged', 'PositionChanged', 'ExecutionReported'] as const) {
    events.on(type, (e) => void seen.push(e));
  }
  const ledger = new Ledger({ orm, events, audit: new AuditService(), conversions: rates, logger });
  return { ledger, events, seen, of: <T extends EngineEvent['type']>(type: T) => seen.filter((e) => e.type === type) as Array<Extract<EngineEvent, { type: T }>> };
}

export async function newUser(orm: MikroORM): Promise<string> {
  const id = randomUUID();
  await orm.em.fork().execute(
    "insert into users (id, email, password_hash, role, status, subscription, token_version, created_at, updated_at) values (?, ?, 'x', 'USER', 'ACTIVE', 'PRO', 0, now(), now())",
    [id, `ledger-${id.slice(0, 8)}@example.com`],
  );
  return id;
}

export function fill(over: Partial<TradeFill> & { id: string; side: 'BUY' | 'SELL'; qty: Decimal.Value }): TradeFill {
  return {
    symbol: 'BTCUSDT', exchangeTradeId: over.id, exchangeOrderId: over.exchangeOrderId ?? `o-${over.id}`, side: over.side, price: over.price ?? d('50000'),
    quantity: d(over.qty), realizedPnl: over.realizedPnl ?? d(0), commission: over.commission ?? d('0.4'), commissionAsset: over.commissionAsset ?? 'USDT',
    time: over.time ?? at(0),
  };
}

export function orderResult(over: Partial<OrderResult> & { clientOrderId: string }): OrderResult {
  return {
    symbol: 'BTCUSDT', exchangeOrderId: over.exchangeOrderId ?? '777', clientOrderId: over.clientOrderId, side: over.side ?? 'BUY',
    status: over.status ?? 'FILLED', quantity: over.quantity ?? d('0.1'), executedQty: over.executedQty ?? d('0.1'),
    avgPrice: over.avgPrice === undefined ? d('50000') : over.avgPrice, reduceOnly: over.reduceOnly ?? false, updatedAt: over.updatedAt ?? at(0),
  };
}

export function tradeUpdate(order: OrderResult, trade: TradeFill | null): OrderUpdateEvent {
  return { eventTime: trade?.time ?? order.updatedAt, order, fill: trade, isLiquidation: false };
}
