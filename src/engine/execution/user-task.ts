import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import { ExecutionStatus, OrderOrigin, OrderSide, OrderStatus, PositionSide, SignalAction, SignalSource } from '../../entities/enums';
import type { Order } from '../../entities/order.entity';
import type { Position } from '../../entities/position.entity';
import type { Signal } from '../../entities/signal.entity';
import { AuthenticationError, isExchangeError } from '../exchange/exchange-errors';
import type { OrderResult, SymbolFilters } from '../exchange/exchange-gateway';
import type { PriceSource } from '../exchange/paper-gateway';
import type { Ledger, OwnFillContext } from '../ledger/ledger';
import { CredentialsUnreadableError, type KeyHealth } from '../ports';
import type { RiskMonitor } from '../risk/risk-monitor';
import type { Candidate } from '../routing/signal-router';
import { deriveClientOrderId } from './client-order-id';
import type { ExecutionClock } from './execution-clock';
import { UNKNOWN_REASON, type OrderPlacer, type PlacementOutcome } from './order-placement';
import { belowMarketOrder, marketClosable, sizeCloseOrder, sizeOpenOrder, type SizingResult } from './sizing';
import type { UserContext, UserContextCache } from './user-context';
import { failed, fromStoredOrder, skipped, unknownOutcome, type UserOutcome } from './user-outcome';

export interface UserTaskDeps {
  ledger: Ledger;
  contexts: UserContextCache;
  placer: OrderPlacer;
  prices: PriceSource;
  risk: Pick<RiskMonitor, 'check'>;
  keyHealth: KeyHealth;
  clock: ExecutionClock;
  logger: Logger;
  options: { maxLagMs: number; userTimeoutMs: number };
}

const UNREADABLE_KEY = 'the stored API key could not be read; set the API key and secret again';

/**
 * One user's part of one signal: decide (skip, open, close), size, place the
 * order and record what came of it. Never throws for a user-level problem:
 * those are outcomes. Built per (signal, user) by the fan-out.
 */
export class UserTask {
  private readonly userId: string;
  private readonly opening: boolean;
  private readonly em: EntityManager;
  private ctx!: UserContext;
  private price!: Decimal;
  /** This task's hold on the account (one signal at a time per account, on any node). */
  private readonly lease: string;
  private leaseHeld = false;
  /** The position as it stood when the lease was taken (never the routing's older read). */
  private position: Position | null = null;

  constructor(
    private readonly deps: UserTaskDeps,
    private readonly signal: Signal,
    private readonly candidate: Candidate,
    private readonly abort: AbortSignal,
    /** Orders this signal already made for this user (a re-run after a restart or a timeout). */
    private readonly known: readonly Order[],
  ) {
    this.userId = candidate.userId;
    this.opening = signal.action !== SignalAction.CLOSE;
    this.em = deps.ledger.userEm(this.userId);
    this.lease = `${signal.id}|${randomUUID()}`;
  }

  async run(): Promise<UserOutcome> {
    const late = this.lateReason();
    if (late) return skipped(this.userId, late);
    try {
      this.ctx = await this.deps.contexts.get(this.candidate.config);
    } catch (err) {
      if (!(err instanceof CredentialsUnreadableError)) throw err;
      await this.deps.keyHealth.keyRefused(this.userId, UNREADABLE_KEY, 'FAN_OUT');
      return failed(this.userId, UNREADABLE_KEY);
    }
    const price = this.signal.referencePrice ? new Decimal(this.signal.referencePrice) : this.deps.prices.latestPrice(this.signal.symbol);
    if (!price) return failed(this.userId, 'no market price to size the order with');
    this.price = price;
    if (!(await this.takeLease())) {
      return skipped(this.userId, 'another signal was still being executed for this account; this one was not placed');
    }
    try {
      // A re-run of this signal resumes the order it already made: sizing again would meet that order's own position.
      const main = this.known.find((o) => o.clientOrderId === this.clientOrderId());
      if (main) return await this.resume(main);
      return this.opening ? await this.open() : await this.close();
    } catch (err) {
      // A key deleted on the exchange shows up here as often as at the order: same consequence.
      if (err instanceof AuthenticationError) await this.deps.keyHealth.keyRefused(this.userId, err.message, 'FAN_OUT');
      return this.fromError(err);
    } finally {
      if (this.leaseHeld) await this.deps.ledger.releaseAccount(this.em, this.userId, this.signal.symbol, this.lease).catch(() => undefined);
    }
  }

  /**
   * Waits (within half the task's time) for any other signal's task on this
   * account to finish, then holds the account and reads its position: two
   * OPENs at once, on any nodes, see each other's fill instead of doubling it.
   */
  private async takeLease(): Promise<boolean> {
    const { clock, options } = this.deps;
    const until = clock.now() + options.userTimeoutMs / 2;
    let wait = 25;
    for (;;) {
      const position = await this.deps.ledger.reserveAccount(this.em, this.userId, this.signal.symbol, this.lease, options.userTimeoutMs * 2);
      if (position) {
        this.leaseHeld = true;
        this.position = position.side === PositionSide.FLAT && new Decimal(position.quantity).isZero() && !position.closePending ? null : position;
        return true;
      }
      if (this.abort.aborted || clock.now() + wait >= until) return false;
      await clock.sleep(wait, this.abort);
      wait = Math.min(wait * 2, 250);
    }
  }

  private async open(): Promise<UserOutcome> {
    const { symbol } = this.signal;
    const direction = this.signal.action === SignalAction.OPEN_LONG ? PositionSide.LONG : PositionSide.SHORT;
    const position = this.position;
    const [account, filters] = await Promise.all([this.deps.contexts.account(this.ctx), this.ctx.gateway.getSymbolFilters(symbol)]);
    let equity = account.equity;
    if (position?.closePending && position.side !== PositionSide.FLAT) {
      // A CLOSE left part of the strategy's last position open: finish that exit before opening from flat.
      const exit = await this.finishPendingExit(filters);
      if (exit) return exit;
      equity = (await this.ctx.gateway.getAccount()).equity;
    } else if (position && position.side !== PositionSide.FLAT && !marketClosable(new Decimal(position.quantity), filters).isZero()) {
      // Only a position a market order could close blocks: dust below the market lot (a coarser market step left it) does not.
      return skipped(this.userId, position.side === direction
        ? `already ${direction.toLowerCase()} ${position.quantity} ${symbol}`
        : `a ${position.side.toLowerCase()} position is open; it must be closed first`);
    }
    // The user's own risk check on the equity we are about to size from: a limit crossed now locks and skips, and so does a state that cannot be judged.
    const verdict = await this.deps.risk.check(this.userId, this.candidate.risk, equity);
    if (verdict.locked) return skipped(this.userId, verdict.unjudged ? verdict.reason! : `risk locked: ${verdict.reason}`);
    const sizing = sizeOpenOrder({
      direction,
      equity,
      // The plan's cap holds at order time too: a downgrade never leaves an old, larger setting in force.
      maxPositionPct: Decimal.min(this.ctx.maxPositionPct, this.candidate.planCap),
      strength: new Decimal(this.signal.strength),
      leverage: this.ctx.leverage,
      price: this.price,
      filters,
    });
    return this.place(sizing, this.clientOrderId(), { opening: true, leverage: this.ctx.leverage, positionBefore: null, releaseLease: this.lease });
  }

  /** Exits size from the exchange's own figure, not ours. */
  private async close(): Promise<UserOutcome> {
    const live = await this.ctx.gateway.getPosition(this.signal.symbol);
    if (live.positionAmt.isZero()) {
      await this.deps.ledger.flatten(this.em, this.userId, this.signal.symbol);
      return skipped(this.userId, 'no open position on the exchange');
    }
    const filters = await this.ctx.gateway.getSymbolFilters(this.signal.symbol);
    // Dust no market order can close is skipped with its reason here, not sent to be refused by the exchange.
    const sizing = sizeCloseOrder({ positionAmt: live.positionAmt, price: this.price, filters });
    const outcome = await this.place(sizing, this.clientOrderId(), {
      opening: false, leverage: this.ctx.leverage, positionBefore: live.positionAmt, releaseLease: this.lease,
    });
    if (sizing.kind === 'order' && outcome.order && new Decimal(outcome.order.executedQty).lt(live.positionAmt.abs())) {
      const left = live.positionAmt.abs().minus(outcome.order.executedQty);
      const closed = `closed ${new Decimal(outcome.order.executedQty).toFixed()} of ${live.positionAmt.abs().toFixed()} ${this.signal.symbol}`;
      const rest = marketClosable(left, filters).isZero()
        ? `${left.toFixed()} stays open, ${belowMarketOrder(filters)}; it does not hold up the next OPEN`
        : `${left.toFixed()} stays open until the next signal`;
      return { ...outcome, reason: `${closed}; ${rest}` };
    }
    return outcome;
  }

  /** Null once the exchange shows no position, or only dust no market order can close; otherwise why this OPEN cannot go ahead. */
  private async finishPendingExit(filters: SymbolFilters): Promise<UserOutcome | null> {
    const exitId = this.clientOrderId('exit');
    const known = this.known.find((o) => o.clientOrderId === exitId);
    let outcome: UserOutcome | null = null;
    if (known) outcome = await this.resume(known, 'exit');
    else {
      const live = await this.ctx.gateway.getPosition(this.signal.symbol);
      if (live.positionAmt.isZero()) {
        await this.deps.ledger.flatten(this.em, this.userId, this.signal.symbol);
        return null;
      }
      // What is left is below any market order: no exit can take it, so it must not block every OPEN from now on.
      if (marketClosable(live.positionAmt, filters).isZero()) return null;
      const sizing = sizeCloseOrder({ positionAmt: live.positionAmt, price: this.price, filters });
      outcome = await this.place(sizing, exitId, { opening: false, leverage: this.ctx.leverage, positionBefore: live.positionAmt });
    }
    if (outcome.status !== ExecutionStatus.PLACED) return { ...outcome, reason: `the rest of the last position could not be closed before opening: ${outcome.reason}` };
    const after = await this.ctx.gateway.getPosition(this.signal.symbol);
    if (!marketClosable(after.positionAmt, filters).isZero()) {
      return skipped(this.userId, `${after.positionAmt.abs().toFixed()} ${this.signal.symbol} of the last position is still open; the next signal closes it first`);
    }
    return null;
  }

  private async place(sizing: SizingResult, clientOrderId: string, fill: OwnFillContext): Promise<UserOutcome> {
    if (sizing.kind === 'skip') return skipped(this.userId, sizing.reason);
    const { order, inserted } = await this.deps.ledger.openOrder(this.em, {
      userId: this.userId,
      signalId: this.signal.id,
      clientOrderId,
      origin: this.signal.source === SignalSource.MANUAL ? OrderOrigin.MANUAL : OrderOrigin.STRATEGY,
      symbol: this.signal.symbol,
      side: sizing.side,
      quantity: sizing.quantity.toString(),
      reduceOnly: sizing.reduceOnly,
    });
    // Another run made the row between our lookup and our insert: resume that one, never send a second time.
    if (!inserted) return this.resume(order, clientOrderId === this.clientOrderId() ? 'main' : 'exit');
    return this.send(order, fill);
  }

  private async send(order: Order, fill: OwnFillContext): Promise<UserOutcome> {
    const request = {
      symbol: this.signal.symbol,
      side: order.side === OrderSide.BUY ? ('BUY' as const) : ('SELL' as const),
      quantity: new Decimal(order.quantity),
      clientOrderId: order.clientOrderId,
      reduceOnly: order.reduceOnly,
    };
    const deadline = this.deps.clock.now() + Math.max(1000, this.deps.options.userTimeoutMs - 2000);
    const outcome = await this.deps.placer.place(this.ctx.gateway, request, deadline, this.abort);
    return this.record(order, outcome, fill);
  }

  private async record(order: Order, outcome: PlacementOutcome, fill: OwnFillContext): Promise<UserOutcome> {
    const { ledger } = this.deps;
    if (outcome.status === 'UNKNOWN') {
      await ledger.recordUnknown(this.em, order, UNKNOWN_REASON);
      return unknownOutcome(this.userId, order);
    }
    if (outcome.status === 'FAILED') {
      if (outcome.errorKind === 'authentication') await this.deps.keyHealth.keyRefused(this.userId, outcome.reason, 'FAN_OUT');
      // Failed placements filled nothing (anything filled is PLACED): the order ends with the reason.
      await ledger.recordPlacementFailure(this.em, order, outcome.reason, outcome.order);
      return failed(this.userId, outcome.reason, order);
    }
    await ledger.recordPlacement(this.em, order, outcome.order, fill);
    if (fill.releaseLease && outcome.order.executedQty.gt(0)) this.leaseHeld = false;
    return fromStoredOrder(this.userId, order, this.price, this.signal);
  }

  /**
   * The order this (signal, user) already has. A PENDING one may have reached
   * the exchange before a crash or a timeout: it is looked up by client id
   * before anything is sent again (DESIGN §4), and sent only once the exchange
   * provably never got it.
   */
  private async resume(order: Order, role: 'main' | 'exit' = 'main'): Promise<UserOutcome> {
    const merged = this.em.merge(order);
    if (merged.status !== OrderStatus.PENDING) return fromStoredOrder(this.userId, merged, this.price, this.signal);
    const fill = await this.resumedFillContext(role);
    // Still being placed by this process (a task that outlived its timeout): join it rather than look it up.
    if (this.deps.placer.isInFlight(merged.clientOrderId)) return this.send(merged, fill);
    let found: OrderResult | null;
    try {
      found = await this.ctx.gateway.getOrder(this.signal.symbol, merged.clientOrderId);
    } catch (err) {
      if (err instanceof AuthenticationError) await this.deps.keyHealth.keyRefused(this.userId, err.message, 'FAN_OUT');
      return unknownOutcome(this.userId, merged);
    }
    if (found) return this.record(merged, { status: 'PLACED', order: found, adopted: true, sends: 0 }, fill);
    // "Absent" proves nothing while an earlier send may still land: Binance honours a request until its recvWindow ends.
    if (this.deps.clock.wallNow() - merged.createdAt.getTime() < this.deps.placer.absentAfterMs) return unknownOutcome(this.userId, merged);
    const late = this.lateReason();
    if (late) {
      await this.deps.ledger.recordPlacementFailure(this.em, merged, late, null);
      return skipped(this.userId, late);
    }
    return this.send(merged, fill);
  }

  /** A resumed exit no longer knows the size it was made from: what is left open is what the exchange shows now. */
  private async resumedFillContext(role: 'main' | 'exit'): Promise<OwnFillContext> {
    if (this.opening && role === 'main') return { opening: true, leverage: this.ctx.leverage, positionBefore: null, releaseLease: this.lease };
    const live = await this.ctx.gateway.getPosition(this.signal.symbol).catch(() => null);
    return {
      opening: false, leverage: this.ctx.leverage, positionBefore: null, positionAfter: live?.positionAmt ?? null,
      releaseLease: role === 'main' ? this.lease : undefined,
    };
  }

  /**
   * An OPEN is not placed once it is older than the configured lag (exactly the
   * limit still is); an exit always is, however late: a stale CLOSE still takes risk off.
   */
  private lateReason(): string | null {
    const lag = this.deps.clock.wallNow() - this.signal.createdAt.getTime();
    if (!this.opening || lag <= this.deps.options.maxLagMs) return null;
    return `signal is ${lag} ms old, over the ${this.deps.options.maxLagMs} ms limit: not placed late`;
  }

  /** Deterministic per (signal, user): every retry, resend and lookup of that order uses the same id. */
  private clientOrderId(role: 'main' | 'exit' = 'main'): string {
    return deriveClientOrderId(this.ctx.gateway.clientOrderIdPrefix(), role === 'main' ? this.signal.id : `${this.signal.id}:exit`, this.userId);
  }

  private fromError(err: unknown): UserOutcome {
    if (isExchangeError(err)) return failed(this.userId, err.message);
    this.deps.logger.error({ userId: this.userId, err }, 'unexpected error before placing');
    return failed(this.userId, 'internal error while executing; see the server log');
  }
}
