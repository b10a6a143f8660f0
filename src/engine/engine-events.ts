import { EventEmitter } from 'node:events';
import type Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type { MovementKind } from '../entities/account-movement.entity';
import type { Order } from '../entities/order.entity';
import type { Position } from '../entities/position.entity';
import type { Signal } from '../entities/signal.entity';
import type { UserExecution } from '../entities/user-execution.entity';
import type { UserRiskState } from '../entities/user-risk-state.entity';
import type { RiskLimits } from './risk/risk-guard';

/** A fill stored for the first time (the same fill seen again by another source emits nothing). */
export interface FillRecorded {
  type: 'FillRecorded';
  userId: string;
  /** Its place in the ledger's journal (absent for a fact that was not stored, e.g. an unchanged balance). */
  seq?: string;
  symbol: string;
  exchangeTradeId: string;
  orderId: string | null;
  side: 'BUY' | 'SELL';
  price: Decimal;
  quantity: Decimal;
  realizedPnl: Decimal;
  commission: Decimal;
  commissionAsset: string;
  /** The commission's USDT value at the trade (null until it could be valued). */
  commissionUsdt: Decimal | null;
  executedAt: Date;
}

/** A position went back to flat (or flipped): one event per close, however many fills it took. */
export interface PositionClosed {
  type: 'PositionClosed';
  userId: string;
  /** Its place in the ledger's journal (absent for a fact that was not stored, e.g. an unchanged balance). */
  seq?: string;
  symbol: string;
  /** The side that was closed. */
  side: 'LONG' | 'SHORT';
  /** Σ realized PnL of the round trip's fills. */
  realizedPnl: Decimal;
  /** Σ commission (USDT) of the round trip's fills, opening ones included. */
  commission: Decimal;
  /** realizedPnl − commission: a losing close is one below zero. */
  netPnl: Decimal;
  fills: number;
  openedAt: Date | null;
  closedAt: Date;
}

export interface BalanceChanged {
  type: 'BalanceChanged';
  userId: string;
  /** Its place in the ledger's journal (absent for a fact that was not stored, e.g. an unchanged balance). */
  seq?: string;
  /** Wallet balance plus unrealized PnL, in USDT. */
  equity: Decimal;
  walletBalance: Decimal;
  unrealizedPnl: Decimal;
  at: Date;
  source: 'STREAM' | 'RECONCILE' | 'SIGNAL';
}

export interface MovementRecorded {
  type: 'MovementRecorded';
  userId: string;
  /** Its place in the ledger's journal (absent for a fact that was not stored, e.g. an unchanged balance). */
  seq?: string;
  kind: MovementKind;
  rawReason: string;
  asset: string;
  amount: Decimal;
  usdtValue: Decimal | null;
  symbol: string | null;
  occurredAt: Date;
}

export interface OrderChanged {
  type: 'OrderChanged';
  userId: string;
  order: Order;
}

export interface PositionChanged {
  type: 'PositionChanged';
  userId: string;
  position: Position;
}

export interface ExecutionReport {
  signal: Signal;
  total: number;
  placed: number;
  skipped: number;
  failed: number;
  durationMs: number;
  results: UserExecution[];
}

export interface ExecutionReported {
  type: 'ExecutionReported';
  report: ExecutionReport;
}

export interface RiskStateChanged {
  type: 'RiskStateChanged';
  userId: string;
  state: UserRiskState;
  limits: RiskLimits;
  /** What happened to the lock, when anything did (metrics count these). */
  transition: 'LOCKED' | 'LIFTED' | 'UNLOCKED' | null;
}

export type LedgerEvent = FillRecorded | PositionClosed | BalanceChanged | MovementRecorded | OrderChanged | PositionChanged | ExecutionReported;
export type EngineEvent = LedgerEvent | RiskStateChanged;
type EventOf<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

/**
 * The engine's domain events, in process: emitted after the write they report
 * has committed. Risk, the realtime bridge (GraphQL subscriptions), metrics and
 * notifications listen; a listener's failure is logged and never reaches the
 * writer.
 */
export class EngineEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  constructor(private readonly logger: Logger) {}

  on<T extends EngineEvent['type']>(type: T, listener: (event: EventOf<T>) => void | Promise<void>): () => void {
    const wrapped = (event: EventOf<T>) => {
      try {
        const result = listener(event);
        if (result && typeof (result as Promise<void>).catch === 'function') {
          (result as Promise<void>).catch((err: unknown) => this.logger.error({ err, event: type }, 'engine event listener failed'));
        }
      } catch (err) {
        this.logger.error({ err, event: type }, 'engine event listener failed');
      }
    };
    this.emitter.on(type, wrapped);
    return () => this.emitter.off(type, wrapped);
  }

  emit(event: EngineEvent): void {
    this.emitter.emit(event.type, event);
  }
}
