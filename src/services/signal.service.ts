import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { SignalAction, SignalSource } from '../entities/enums';
import { Signal, type StoredVote } from '../entities/signal.entity';
import { badInput } from '../errors/app-error';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';
import { toSignalType } from '../schema/mappers/signal.mapper';
import type { PriceSource } from '../engine/exchange/paper-gateway';
import type { SignalStore } from '../engine/ports';
import type { ExecutionReport } from '../engine/engine-events';
import type { AuditService } from './audit.service';
import { pageSize } from './pagination';
import type { SignedInScope } from './scope';

export interface StrategySignalInput {
  action: SignalAction;
  symbol: string;
  interval: string;
  strength: Decimal.Value;
  referencePrice: string | null;
  votes: StoredVote[];
  candleTime: Date;
  reason: string | null;
}

/** Signals of the shared strategy and admins' manual broadcasts: stored with their votes, then announced. */
export class SignalService implements SignalStore {
  constructor(
    private readonly deps: {
      bus: EventBus;
      audit: AuditService;
      symbol: string;
      prices: PriceSource;
      /** Fans a stored signal out to every eligible user (the engine's executor). */
      execute: (signal: Signal) => Promise<ExecutionReport>;
    },
  ) {}

  async list(scope: SignedInScope, first: number | null | undefined): Promise<Signal[]> {
    return scope.em.find(Signal, {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: pageSize(first, 20) });
  }

  /**
   * Stores a strategy signal. The unique (symbol, interval, candle, action) index makes a second
   * node's attempt at the same signal a no-op: returns null then. A flip stores both its CLOSE and
   * its OPEN on the same candle.
   */
  async recordStrategySignal(em: EntityManager, input: StrategySignalInput): Promise<Signal | null> {
    const signal = em.create(Signal, {
      source: SignalSource.STRATEGY,
      action: input.action,
      symbol: input.symbol,
      interval: input.interval,
      strength: new Decimal(input.strength).toString(),
      referencePrice: input.referencePrice,
      votes: input.votes,
      candleTime: input.candleTime,
      reason: input.reason,
      createdAt: new Date(),
    });
    try {
      await em.flush();
    } catch (err) {
      // The unique (symbol, interval, candle, action) index: another node stored this very signal.
      if (err instanceof UniqueConstraintViolationException) return null;
      throw err;
    }
    this.announce(signal);
    return signal;
  }

  /** Admin: a manual signal at the latest market price, executed at once; resolves with the report. */
  async broadcast(
    scope: SignedInScope,
    input: { action: SignalAction; symbol?: string | null; strength?: number | null; reason?: string | null },
  ): Promise<ExecutionReport> {
    const price = this.deps.prices.latestPrice(this.deps.symbol);
    const signal = await this.createManual(scope, input, price ? price.toString() : null);
    return this.deps.execute(signal);
  }

  async createManual(
    scope: SignedInScope,
    input: { action: SignalAction; symbol?: string | null; strength?: number | null; reason?: string | null },
    referencePrice: string | null,
  ): Promise<Signal> {
    const symbol = (input.symbol ?? this.deps.symbol).trim().toUpperCase();
    if (symbol !== this.deps.symbol) throw badInput(`symbol must be ${this.deps.symbol}, the symbol this platform trades`, 'symbol');
    const strength = input.strength ?? 1;
    if (!Number.isFinite(strength) || strength <= 0 || strength > 1) throw badInput('strength must be above 0 and at most 1', 'strength');
    const signal = scope.em.create(Signal, {
      source: SignalSource.MANUAL,
      action: input.action,
      symbol,
      strength: new Decimal(strength).toString(),
      referencePrice,
      votes: [],
      reason: input.reason?.trim() || null,
      createdBy: scope.actor.id,
      createdAt: new Date(),
    });
    this.deps.audit.record(scope.em, {
      action: 'admin.broadcast_signal',
      actorId: scope.actor.id,
      detail: `${input.action} ${symbol} strength ${strength}${signal.reason ? `: ${signal.reason}` : ''}`,
      ip: scope.ip,
    });
    await scope.em.flush();
    this.announce(signal);
    return signal;
  }

  private announce(signal: Signal): void {
    this.deps.bus.publish(Topic.SIGNAL_EMITTED, toSignalType(signal));
  }
}
