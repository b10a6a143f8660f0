import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { SignalAction, SignalSource } from '../entities/enums';
import { Signal, type StoredVote } from '../entities/signal.entity';
import { badInput, conflict } from '../errors/app-error';
import { readExecutionReport } from './execution-reports';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';
import { toSignalType } from '../schema/mappers/signal.mapper';
import type { PriceSource } from '../engine/exchange/paper-gateway';
import type { SignalStore } from '../engine/ports';
import type { ExecutionReport } from '../engine/engine-events';
import { assertAdminAudited } from './access';
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

export interface ManualBroadcast {
  action: SignalAction;
  symbol?: string | null;
  strength?: number | null;
  reason?: string | null;
  idempotencyKey?: string | null;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;
/** How long a repeated broadcast waits for the first one's report before answering CONFLICT. */
const REPORT_WAIT_MS = 60_000;

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

  /**
   * Admin: a manual signal at the latest market price, executed at once;
   * resolves with the report. The same idempotency key again (a retry after a
   * lost answer, a double click, two nodes) returns the first broadcast's
   * report and trades nothing more.
   */
  async broadcast(scope: SignedInScope, input: ManualBroadcast): Promise<ExecutionReport> {
    await assertAdminAudited(scope, this.deps.audit, 'broadcastSignal');
    const key = input.idempotencyKey?.trim() || null;
    if (key !== null && !IDEMPOTENCY_KEY.test(key)) {
      throw badInput('idempotencyKey must be 1 to 128 letters, digits or . _ : - characters', 'idempotencyKey');
    }
    if (key) {
      const earlier = await scope.em.findOne(Signal, { idempotencyKey: key });
      if (earlier) return this.reportOf(scope, earlier, input);
    }
    const price = this.deps.prices.latestPrice(this.deps.symbol);
    let signal: Signal;
    try {
      signal = await this.createManual(scope, input, price ? price.toString() : null, key);
    } catch (err) {
      // Another request with this key stored its signal between our look-up and our insert.
      if (key && err instanceof UniqueConstraintViolationException) {
        return this.reportOf(scope, await scope.em.fork().findOneOrFail(Signal, { idempotencyKey: key }), input);
      }
      throw err;
    }
    return this.deps.execute(signal);
  }

  /** The stored report of an earlier broadcast with the same key (waiting for it while it is still running). */
  private async reportOf(scope: SignedInScope, signal: Signal, input: ManualBroadcast): Promise<ExecutionReport> {
    if (signal.source !== SignalSource.MANUAL || signal.action !== input.action) {
      throw conflict('This idempotency key belongs to a different signal');
    }
    const deadline = Date.now() + REPORT_WAIT_MS;
    for (;;) {
      const report = await readExecutionReport(scope.em.fork(), signal);
      if (report) return report;
      if (Date.now() > deadline) throw conflict('The broadcast with this idempotency key is still running; ask again shortly');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async createManual(
    scope: SignedInScope,
    input: { action: SignalAction; symbol?: string | null; strength?: number | null; reason?: string | null },
    referencePrice: string | null,
    idempotencyKey: string | null = null,
  ): Promise<Signal> {
    await assertAdminAudited(scope, this.deps.audit, 'manual signal');
    const symbol = (input.symbol ?? this.deps.symbol).trim().toUpperCase();
    if (symbol !== this.deps.symbol) throw badInput(`symbol must be ${this.deps.symbol}, the symbol this platform trades`, 'symbol');
    const strength = input.strength ?? 1;
    if (!Number.isFinite(strength) || strength <= 0 || strength > 1) throw badInput('strength must be above 0 and at most 1', 'strength');
    const em = scope.em.fork();
    const signal = em.create(Signal, {
      source: SignalSource.MANUAL,
      action: input.action,
      symbol,
      strength: new Decimal(strength).toString(),
      referencePrice,
      votes: [],
      reason: input.reason?.trim() || null,
      createdBy: scope.actor.id,
      idempotencyKey,
      createdAt: new Date(),
    });
    this.deps.audit.record(em, {
      action: 'admin.broadcast_signal',
      actorId: scope.actor.id,
      detail: `${input.action} ${symbol} strength ${strength}${signal.reason ? `: ${signal.reason}` : ''}${idempotencyKey ? ` (key ${idempotencyKey})` : ''}`,
      ip: scope.ip,
    });
    await em.flush();
    this.announce(signal);
    return signal;
  }

  private announce(signal: Signal): void {
    this.deps.bus.publish(Topic.SIGNAL_EMITTED, toSignalType(signal));
  }
}
