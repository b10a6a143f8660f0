import type { Logger } from 'pino';
import type { ReconcileSummary, Reconciler } from './reconciler';
import type { UserStreams } from './user-streams';

/**
 * What exactly one node of the cluster does, on the strategy leader: keep
 * user-data streams open and reconcile the accounts (at leadership and
 * whenever the scheduler's reconciliation job, routed to the leader, asks).
 * One pass at a time, so a slow one never overlaps the next.
 */
export class LeaderWork {
  private running: Promise<unknown> = Promise.resolve();
  private active = false;
  private syncTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: { reconciler: Reconciler; streams: UserStreams; logger: Logger; afterPass?: () => Promise<unknown> }) {}

  get isActive(): boolean {
    return this.active;
  }

  async start(): Promise<void> {
    this.active = true;
    this.deps.reconciler.resume();
    this.deps.streams.reopen();
    void this.reconcileNow();
  }

  /** One reconciliation pass and a stream sync after it; null when this node does not lead. */
  reconcileNow(): Promise<ReconcileSummary | null> {
    if (!this.active) return Promise.resolve(null);
    return this.serial(async () => {
      const summary = await this.deps.reconciler.reconcileAll();
      if (this.active) await this.deps.streams.sync();
      if (this.active && this.deps.afterPass) {
        await this.deps.afterPass().catch((err: unknown) => this.deps.logger.error({ err }, 'work after the reconciliation pass failed'));
      }
      return summary;
    });
  }

  /** A user's config changed: open (or reopen) their stream soon rather than at the next pass. */
  requestStreamSync(): void {
    if (!this.active || this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      void this.serial(() => this.deps.streams.sync());
    }, 500);
    this.syncTimer.unref();
  }

  async stop(): Promise<void> {
    this.active = false;
    if (this.syncTimer) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    // A pass waiting on a hanging account, or a stream opening, must not hold up the shutdown.
    this.deps.reconciler.stop();
    await this.deps.streams.closeAll();
    await this.running.catch(() => undefined);
  }

  private serial<T>(job: () => Promise<T>): Promise<T | null> {
    const next = this.running.then(job).catch((err) => {
      this.deps.logger.error({ err }, 'leader job failed');
      return null;
    });
    this.running = next;
    return next;
  }
}
