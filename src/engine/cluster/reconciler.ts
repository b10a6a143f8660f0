import type { MikroORM } from '@mikro-orm/postgresql';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { Exchange, OrderOrigin, OrderStatus } from '../../entities/enums';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import { AuthenticationError } from '../exchange/exchange-errors';
import type { UserContextCache } from '../execution/user-context';
import type { Ledger } from '../ledger/ledger';
import { fillsFeed, INCOME_FEED } from '../ledger/sync-cursors';
import { CredentialsUnreadableError, type KeyHealth } from '../ports';
import { withTimeLimit } from './time-limit';

/** A PENDING order the exchange has never heard of is only declared failed once any request in flight must be dead. */
const ABSENT_AFTER_MS = 60_000;
/**
 * Fills and income are fetched again from a little before where the last read ended: a row the exchange
 * publishes a little after its own time (or a clock a little apart from the exchange's) is not missed.
 */
const OVERLAP_MS = 5 * 60_000;
/** A user whose stream stayed up is still read in full this often (a safety net under the stream). */
const FULL_PASS_EVERY_MS = 15 * 60_000;
/** One account may take this long; past it the pass goes on without it (and counts a failure). */
const USER_TIME_LIMIT_MS = 30_000;

export interface ReconcileSummary {
  users: number;
  /** Read in full over REST (the others had a live stream and nothing pending). */
  full: number;
  ordersSettled: number;
  tradesAdded: number;
  movementsAdded: number;
  failures: number;
  durationMs: number;
}

export interface StreamHealth {
  connectedSince(userId: string): Date | null;
}

/**
 * Compares each account on the exchange with our records and hands what
 * happened while we were not looking (fills of orders whose outcome was
 * unknown, liquidations, manual trades, funding, transfers, positions changed)
 * to the ledger, so `me.positions` and `me.orders` never lie. Reads only what
 * the stream could have missed: an account whose stream stayed up is read in
 * full every FULL_PASS_EVERY_MS, one whose stream is down at every pass.
 */
export class Reconciler {
  private readonly lastFull = new Map<string, number>();
  /** Aborted once this node stops leading: the pass under way gives up its accounts, so it never holds up a shutdown. */
  private leading = new AbortController();

  constructor(
    private readonly deps: {
      orm: MikroORM;
      contexts: UserContextCache;
      ledger: Ledger;
      keyHealth: KeyHealth;
      streams?: StreamHealth;
      symbol: string;
      logger: Logger;
      concurrency?: number;
      userTimeLimitMs?: number;
      onPass?: (summary: ReconcileSummary) => void;
    },
  ) {}

  /** Ends the pass under way at once: accounts not started are not started, those in flight are given up. */
  stop(): void {
    this.leading.abort();
  }

  /** Leading again: passes run. */
  resume(): void {
    if (this.leading.signal.aborted) this.leading = new AbortController();
  }

  async reconcileAll(): Promise<ReconcileSummary> {
    const started = Date.now();
    // One promise per pass (not per leadership), let go of when the pass ends: nothing piles up on a long leadership.
    const { signal } = this.leading;
    let onStop = () => {};
    const stopped = new Promise<never>((_, reject) => {
      onStop = () => reject(new Error('reconciliation stopped: this node no longer leads'));
      if (signal.aborted) onStop();
      else signal.addEventListener('abort', onStop, { once: true });
    });
    stopped.catch(() => undefined);
    // A key whose last verdict is invalid is not used for signing: its account waits for a working key.
    const configs = await this.deps.orm.em
      .fork()
      .find(UserExchangeConfig, { $or: [{ isValid: true }, { exchange: Exchange.PAPER }] }, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    const limit = pLimit(this.deps.concurrency ?? 8);
    const summary: ReconcileSummary = { users: configs.length, full: 0, ordersSettled: 0, tradesAdded: 0, movementsAdded: 0, failures: 0, durationMs: 0 };
    const pass = Promise.all(
      configs.map((config) =>
        limit(async () => {
          try {
            const reading = withTimeLimit(this.reconcileUser(config), this.deps.userTimeLimitMs ?? USER_TIME_LIMIT_MS, 'reconciling this account took too long');
            const r = await Promise.race([reading, stopped]);
            if (r.full) summary.full += 1;
            summary.ordersSettled += r.ordersSettled;
            summary.tradesAdded += r.tradesAdded;
            summary.movementsAdded += r.movementsAdded;
          } catch (err) {
            summary.failures += 1;
            this.deps.logger.warn({ userId: config.user.id, err: (err as Error).message }, 'reconciling one account failed');
          }
        }),
      ),
    );
    try {
      await Promise.race([pass, stopped.catch(() => limit.clearQueue())]);
    } finally {
      signal.removeEventListener('abort', onStop);
    }
    summary.durationMs = Date.now() - started;
    this.deps.logger.info(summary, 'reconciliation done');
    this.deps.onPass?.(summary);
    return summary;
  }

  async reconcileUser(config: UserExchangeConfig): Promise<{ full: boolean; ordersSettled: number; tradesAdded: number; movementsAdded: number }> {
    const userId = config.user.id;
    const { symbol, ledger } = this.deps;
    let ctx;
    try {
      ctx = await this.deps.contexts.get(config);
    } catch (err) {
      if (err instanceof CredentialsUnreadableError) {
        await this.deps.keyHealth.keyRefused(userId, 'the stored API key could not be read; set the API key and secret again', 'RECONCILER');
      }
      throw err;
    }
    const gateway = ctx.gateway;
    try {
      let ordersSettled = 0;
      let claim = false;
      for (const order of await ledger.openOrders(userId)) {
        const result = await gateway.getOrder(order.symbol, order.clientOrderId);
        if (!result && Date.now() - order.createdAt.getTime() < ABSENT_AFTER_MS) continue;
        if (result && result.status === order.status && result.executedQty.eq(order.executedQty) && !order.unknownSince) continue;
        const settled = await ledger.settleOrder(userId, order, result, 'the exchange has no such order: it was never placed');
        ordersSettled += 1;
        // An engine order that opened a position while we were away makes that position the strategy's.
        if (settled.origin !== OrderOrigin.EXTERNAL && !settled.reduceOnly && settled.status === OrderStatus.FILLED) claim = true;
      }

      const now = Date.now();
      const since = this.deps.streams?.connectedSince(userId) ?? null;
      const last = this.lastFull.get(userId) ?? 0;
      const full = !since || since.getTime() > last || now - last >= FULL_PASS_EVERY_MS || ordersSettled > 0;
      if (!full) return { full, ordersSettled, tradesAdded: 0, movementsAdded: 0 };

      // Each history resumes from where the last REST read of it ended (never from the newest row the stream stored:
      // a stream that reconnected stores fresh rows before this pass, and resuming from them would skip its outage).
      // Never from before this binding: a key bound again after a pause does not import what the account did meanwhile.
      const resumeFrom = async (feed: string) => {
        const synced = await ledger.syncedThrough(userId, feed);
        return Math.max(0, (synced && synced > config.createdAt ? synced : config.createdAt).getTime() - OVERLAP_MS);
      };
      const fills = fillsFeed(symbol);
      const fillsReadAt = new Date();
      const tradesAdded = await ledger.recordFills(userId, await gateway.getUserTrades(symbol, await resumeFrom(fills)), { feed: fills, through: fillsReadAt });
      // Positions after fills: the fill-counted round trip is checked against the exchange's size.
      await ledger.recordPositions(userId, [await gateway.getPosition(symbol)], 'RECONCILE');
      if (claim) await ledger.claimForStrategy(userId, symbol);
      const incomeReadAt = new Date();
      const movementsAdded = await ledger.recordIncome(userId, await gateway.getIncome(await resumeFrom(INCOME_FEED)), { feed: INCOME_FEED, through: incomeReadAt });
      await ledger.revalueMovements(userId);

      const account = await gateway.getAccount();
      this.deps.contexts.noteAccount(userId, account);
      // Risk judges this balance as it judges every ledger event.
      await ledger.recordBalance(userId, account, 'RECONCILE');
      this.lastFull.set(userId, now);
      return { full, ordersSettled, tradesAdded, movementsAdded };
    } catch (err) {
      if (err instanceof AuthenticationError) await this.deps.keyHealth.keyRefused(userId, err.message, 'RECONCILER');
      throw err;
    }
  }
}
