import { isExchangeError, type ExchangeError } from '../exchange/exchange-errors';
import type { ExchangeGateway, MarketOrderRequest, OrderResult } from '../exchange/exchange-gateway';
import type { ExecutionClock } from './execution-clock';

/**
 * One order's outcome. Three, not two (DESIGN §4): UNKNOWN means the order may
 * exist on the exchange and nobody may send it again until the reconciler has
 * looked it up by client id.
 */
export type PlacementOutcome =
  | { status: 'PLACED'; order: OrderResult; /** found by lookup after an unknown outcome */ adopted: boolean; sends: number }
  | { status: 'FAILED'; reason: string; errorKind: string | null; /** set when the exchange holds it, unfilled */ order: OrderResult | null; sends: number }
  | { status: 'UNKNOWN'; reason: string; errorKind: string | null; sends: number };

export interface PlacementPolicy {
  /** Sends of one client id in total (transient retries, pauses, the one resend after "absent"). */
  maxSends: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Lookups by client id after an unknown outcome before settling for UNKNOWN. */
  queryAttempts: number;
  querySpacingMs: number;
  /**
   * "No such order" only proves the order never executed once this long has
   * passed since the send began: a request still in flight could land after an
   * early lookup. Binance refuses a request older than its recvWindow (5 s by
   * default), so recvWindow plus a margin closes that window.
   */
  absentAfterMs: number;
}

export const DEFAULT_PLACEMENT_POLICY: PlacementPolicy = {
  maxSends: 5,
  backoffBaseMs: 200,
  backoffMaxMs: 2_000,
  queryAttempts: 3,
  querySpacingMs: 500,
  absentAfterMs: 6_000,
};

export type PlacementEvent =
  | { type: 'send'; clientOrderId: string; sends: number }
  | { type: 'send_error'; clientOrderId: string; sends: number; errorKind: string; action: string }
  | { type: 'lookup'; clientOrderId: string; result: 'found' | 'absent' | 'error' };

export interface PlacementEnvironment {
  clock: ExecutionClock;
  /** Resolves when the venue-wide pause (429/418) is over; without it, `retryAfterMs` of the error is slept. */
  waitForPause?: () => Promise<void>;
  /** Jitter source in [0, 1); tests pin it. */
  random?: () => number;
  /** For logs and metrics; must not throw. */
  onEvent?: (event: PlacementEvent) => void;
}

export type PlacementGateway = Pick<ExchangeGateway, 'placeMarketOrder' | 'getOrder'>;

type Lookup = { kind: 'found'; order: OrderResult } | { kind: 'absent' } | { kind: 'unknown'; reason: string };

/**
 * The one wording of "the exchange may hold this order and has not said so":
 * on the order row, on the user's outcome, and as the start of a placement's
 * UNKNOWN reason. Code decides on the order's state (`unknownSince`), never on this text.
 */
export const UNKNOWN_REASON = 'outcome unknown, reconciling';

/**
 * Places MARKET orders with a client id and drives each to PLACED, FAILED or
 * UNKNOWN. One instance per process: it also guarantees that one client id
 * is never being placed twice at the same time (a second call joins the first).
 */
export class OrderPlacer {
  private readonly policy: PlacementPolicy;
  private readonly inFlight = new Map<string, Promise<PlacementOutcome>>();

  constructor(private readonly env: PlacementEnvironment, policy: Partial<PlacementPolicy> = {}) {
    this.policy = { ...DEFAULT_PLACEMENT_POLICY, ...policy };
  }

  /** How long after a send "no such order" starts to mean "never executed" (see PlacementPolicy). */
  get absentAfterMs(): number {
    return this.policy.absentAfterMs;
  }

  isInFlight(clientOrderId: string): boolean {
    return this.inFlight.has(clientOrderId);
  }

  /**
   * `deadline` is an instant on `env.clock`: nothing is sent, and no wait
   * extends, past it. `signal` (the executor's task timeout) stops further
   * sends and backoffs, never a lookup that is settling an unknown outcome.
   */
  place(gateway: PlacementGateway, request: MarketOrderRequest, deadline: number, signal?: AbortSignal): Promise<PlacementOutcome> {
    const running = this.inFlight.get(request.clientOrderId);
    if (running) return running;
    const run = this.run(gateway, request, deadline, signal).finally(() => this.inFlight.delete(request.clientOrderId));
    this.inFlight.set(request.clientOrderId, run);
    return run;
  }

  private async run(gateway: PlacementGateway, request: MarketOrderRequest, deadline: number, signal?: AbortSignal): Promise<PlacementOutcome> {
    const { clock } = this.env;
    const id = request.clientOrderId;
    let sends = 0;
    let transientFailures = 0;
    let resentAfterAbsent = false;
    let lastError: ExchangeError | null = null;
    // Every path back to the top of this loop has proven the previous send did not execute.
    for (;;) {
      if (signal?.aborted) return failed('the execution was cancelled before the order could be sent (not placed)', lastError, sends);
      if (sends >= this.policy.maxSends) return failed(`${describe(lastError)} (not placed after ${sends} attempts)`, lastError, sends);
      if (clock.now() >= deadline) {
        const why = sends === 0 ? 'the execution deadline passed before the order could be sent' : describe(lastError);
        return failed(`${why} (not placed before the execution deadline)`, lastError, sends);
      }
      const sentAt = clock.now();
      sends += 1;
      this.emit({ type: 'send', clientOrderId: id, sends });
      let thrown: unknown;
      try {
        return settle(await gateway.placeMarketOrder(request), false, sends);
      } catch (err) {
        thrown = err;
      }
      // A gateway must throw only ExchangeErrors; anything else may have come after the request left, so it counts as unknown.
      const error = isExchangeError(thrown) ? thrown : null;
      const action = error?.action ?? 'reconcile';
      this.emit({ type: 'send_error', clientOrderId: id, sends, errorKind: error?.kind ?? 'unexpected', action });
      lastError = error ?? lastError;

      if (error && action === 'skip_user') return failed(error.message, error, sends);
      if (action === 'retry') {
        transientFailures += 1;
        const delay = this.backoff(transientFailures);
        if (clock.now() + delay >= deadline) return failed(`${describe(error)} (not placed before the execution deadline)`, error, sends);
        await clock.sleep(delay, signal);
        continue;
      }
      if (error && action === 'stop') {
        if (await this.waitOutPause(error, deadline, signal)) continue;
        return failed(`${describe(error)} (${signal?.aborted ? 'execution cancelled' : 'not placed before the execution deadline'})`, error, sends);
      }
      const lookup = await this.lookUp(gateway, request, sentAt, deadline);
      if (lookup.kind === 'found') return settle(lookup.order, true, sends);
      if (lookup.kind === 'unknown') return { status: 'UNKNOWN', reason: `${UNKNOWN_REASON}: ${lookup.reason}`, errorKind: error?.kind ?? null, sends };
      // Definitively absent: sending again with the same id is safe, once; twice absent is a venue problem, not a retry loop.
      if (resentAfterAbsent) return failed('the exchange received neither attempt to send the order (not placed)', error, sends);
      resentAfterAbsent = true;
    }
  }

  /** Looks the order up by client id before anything is sent again (DESIGN §4, notes/security.md §5.2). */
  private async lookUp(gateway: Pick<ExchangeGateway, 'getOrder'>, request: MarketOrderRequest, sentAt: number, deadline: number): Promise<Lookup> {
    const { clock } = this.env;
    const { querySpacingMs, absentAfterMs } = this.policy;
    let nextAt = clock.now();
    let why = 'the exchange did not answer the order lookup';
    for (let attempt = 1; attempt <= this.policy.queryAttempts; attempt++) {
      if (nextAt >= deadline) break;
      if (nextAt > clock.now()) await clock.sleep(nextAt - clock.now());
      const queriedAt = clock.now();
      try {
        const order = await gateway.getOrder(request.symbol, request.clientOrderId);
        if (order) {
          this.emit({ type: 'lookup', clientOrderId: request.clientOrderId, result: 'found' });
          return { kind: 'found', order };
        }
        if (queriedAt - sentAt >= absentAfterMs) {
          this.emit({ type: 'lookup', clientOrderId: request.clientOrderId, result: 'absent' });
          return { kind: 'absent' };
        }
        why = 'the order was not visible on the exchange yet';
        nextAt = Math.max(queriedAt + querySpacingMs, sentAt + absentAfterMs);
      } catch (err) {
        this.emit({ type: 'lookup', clientOrderId: request.clientOrderId, result: 'error' });
        const error = isExchangeError(err) ? err : null;
        // Without a usable key the lookup cannot succeed by repeating it: leave it to the reconciler.
        if (error?.action === 'skip_user') return { kind: 'unknown', reason: `the order cannot be looked up: ${error.message}` };
        if (error?.action === 'stop' && !(await this.waitOutPause(error, deadline))) break;
        nextAt = error?.action === 'stop' ? clock.now() : clock.now() + querySpacingMs;
      }
    }
    return { kind: 'unknown', reason: why };
  }

  /** False when the pause outlasts the deadline: the caller gives up instead of sending late. */
  private async waitOutPause(error: ExchangeError, deadline: number, signal?: AbortSignal): Promise<boolean> {
    const { clock, waitForPause } = this.env;
    if (!waitForPause) {
      const retryAfterMs = 'retryAfterMs' in error && typeof error.retryAfterMs === 'number' ? error.retryAfterMs : this.policy.backoffMaxMs;
      if (clock.now() + retryAfterMs >= deadline) return false;
      await clock.sleep(retryAfterMs, signal);
      return !signal?.aborted;
    }
    const timer = new AbortController();
    const winner = await Promise.race([
      // A rejecting pause hook means "no pause to wait for": the next send finds out.
      waitForPause().then(() => 'resumed' as const, () => 'resumed' as const),
      clock.sleep(deadline - clock.now(), signal ? AbortSignal.any([timer.signal, signal]) : timer.signal).then(() => 'gave_up' as const),
    ]);
    timer.abort();
    return winner === 'resumed' && clock.now() < deadline && !signal?.aborted;
  }

  /** Capped exponential backoff with jitter, so many users retrying at once do not hit the venue in step. */
  private backoff(failures: number): number {
    const capped = Math.min(this.policy.backoffMaxMs, this.policy.backoffBaseMs * 2 ** (failures - 1));
    const random = this.env.random ?? Math.random;
    return Math.round(capped * (0.5 + 0.5 * random()));
  }

  private emit(event: PlacementEvent): void {
    try {
      this.env.onEvent?.(event);
    } catch {
      // Telemetry must never change an order's fate.
    }
  }
}

/** An order the exchange holds: PLACED when anything filled or it is still working, FAILED when it ended empty. */
function settle(order: OrderResult, adopted: boolean, sends: number): PlacementOutcome {
  const live = order.status === 'NEW' || order.status === 'PARTIALLY_FILLED' || order.status === 'FILLED';
  if (live || order.executedQty.gt(0)) return { status: 'PLACED', order, adopted, sends };
  return { status: 'FAILED', reason: EMPTY_END[order.status] ?? `the order ended ${order.status} without a fill`, errorKind: null, order, sends };
}

const EMPTY_END: Partial<Record<OrderResult['status'], string>> = {
  REJECTED: 'the exchange rejected the order',
  EXPIRED: 'the order expired on the exchange without a fill',
  CANCELED: 'the order was cancelled before anything filled',
};

function failed(reason: string, error: ExchangeError | null, sends: number): PlacementOutcome {
  return { status: 'FAILED', reason, errorKind: error?.kind ?? null, order: null, sends };
}

/** ExchangeError messages are written for the user; anything else is not shown. */
const describe = (error: ExchangeError | null) => error?.message ?? 'the exchange did not accept the order';
