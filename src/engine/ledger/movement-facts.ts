import type Decimal from 'decimal.js';
import { MovementKind } from '../../entities/account-movement.entity';
import type { IncomeRecord, TradeFill } from '../exchange/exchange-gateway';
import type { MovementFact } from './movement-ledger';

/**
 * Turns what the venues report into movements with an identity shared across
 * sources: a fill's realized PnL and commission are keyed by the trade (the
 * stream, userTrades and the income history all name it); other movements by
 * the exchange's transaction, matched loosely against the stream's copy.
 */

const ACCOUNT_UPDATE_KINDS: Record<string, MovementKind> = {
  DEPOSIT: MovementKind.DEPOSIT,
  ADMIN_DEPOSIT: MovementKind.DEPOSIT,
  WITHDRAW: MovementKind.WITHDRAWAL,
  ADMIN_WITHDRAW: MovementKind.WITHDRAWAL,
  WITHDRAW_REJECT: MovementKind.TRANSFER,
  MARGIN_TRANSFER: MovementKind.TRANSFER,
  ASSET_TRANSFER: MovementKind.TRANSFER,
  COIN_SWAP_DEPOSIT: MovementKind.TRANSFER,
  COIN_SWAP_WITHDRAW: MovementKind.TRANSFER,
  FUNDING_FEE: MovementKind.FUNDING_FEE,
};

const INCOME_KINDS: Record<string, MovementKind> = {
  REALIZED_PNL: MovementKind.REALIZED_PNL,
  COMMISSION: MovementKind.COMMISSION,
  FUNDING_FEE: MovementKind.FUNDING_FEE,
  TRANSFER: MovementKind.TRANSFER,
  INTERNAL_TRANSFER: MovementKind.TRANSFER,
  CROSS_COLLATERAL_TRANSFER: MovementKind.TRANSFER,
  STRATEGY_UMFUTURES_TRANSFER: MovementKind.TRANSFER,
  COIN_SWAP_DEPOSIT: MovementKind.TRANSFER,
  COIN_SWAP_WITHDRAW: MovementKind.TRANSFER,
};

/** ACCOUNT_UPDATE reasons whose balance change is not a movement of its own (fills carry their PnL and fee). */
const NOT_MOVEMENTS = new Set(['ORDER', 'MARGIN_TYPE_CHANGE']);

export const fillKey = (kind: MovementKind.REALIZED_PNL | MovementKind.COMMISSION, symbol: string, tradeId: string) => `${kind}:${symbol}:${tradeId}`;

/** A fill's realized PnL and commission (negative: paid). */
export function fillMovements(fill: TradeFill, commissionUsdt: Decimal | null, source: MovementFact['source']): MovementFact[] {
  const facts: MovementFact[] = [];
  const base = { symbol: fill.symbol, tradeId: fill.exchangeTradeId, occurredAt: fill.time, source, matchLoosely: false };
  if (!fill.realizedPnl.isZero()) {
    facts.push({
      ...base, kind: MovementKind.REALIZED_PNL, rawReason: 'REALIZED_PNL', asset: 'USDT', amount: fill.realizedPnl, usdtValue: fill.realizedPnl,
      externalId: fillKey(MovementKind.REALIZED_PNL, fill.symbol, fill.exchangeTradeId),
    });
  }
  if (!fill.commission.isZero()) {
    facts.push({
      ...base, kind: MovementKind.COMMISSION, rawReason: 'COMMISSION', asset: fill.commissionAsset, amount: fill.commission.neg(),
      usdtValue: commissionUsdt ? commissionUsdt.neg() : null,
      externalId: fillKey(MovementKind.COMMISSION, fill.symbol, fill.exchangeTradeId),
    });
  }
  return facts;
}

/** ACCOUNT_UPDATE balance changes (deposits, withdrawals, transfers, funding): one movement per asset that changed. */
export function accountUpdateMovements(
  reason: string,
  eventTime: Date,
  changes: Array<{ asset: string; change: Decimal; usdtValue: Decimal | null }>,
  symbol: string | null,
): MovementFact[] {
  if (NOT_MOVEMENTS.has(reason)) return [];
  const kind = ACCOUNT_UPDATE_KINDS[reason] ?? MovementKind.OTHER;
  return changes
    .filter((c) => !c.change.isZero())
    .map((c) => ({
      kind, rawReason: reason, asset: c.asset, amount: c.change, usdtValue: c.usdtValue,
      symbol: kind === MovementKind.FUNDING_FEE ? symbol : null, tradeId: null,
      externalId: `stream:${reason}:${c.asset}:${eventTime.getTime()}:${c.change.toFixed()}`,
      occurredAt: eventTime, source: 'STREAM' as const, matchLoosely: true,
    }));
}

/** One row of the income history (the reconciler's fallback for what the stream missed). */
export function incomeMovement(income: IncomeRecord, usdtValue: Decimal | null): MovementFact {
  const kind = INCOME_KINDS[income.incomeType] ?? MovementKind.OTHER;
  const symbol = income.symbol || null;
  if ((kind === MovementKind.REALIZED_PNL || kind === MovementKind.COMMISSION) && income.tradeId) {
    return {
      kind, rawReason: income.incomeType, asset: income.asset, amount: income.income, usdtValue, symbol, tradeId: income.tradeId,
      externalId: fillKey(kind, income.symbol, income.tradeId), occurredAt: income.time, source: 'RECONCILE', matchLoosely: false,
    };
  }
  return {
    kind, rawReason: income.incomeType, asset: income.asset, amount: income.income, usdtValue, symbol, tradeId: income.tradeId,
    externalId: `income:${income.tranId}:${income.incomeType}`, occurredAt: income.time, source: 'RECONCILE', matchLoosely: true,
  };
}
