import type { Logger } from 'pino';
import type { Reconciler } from './reconciler';
import type { UserStreams } from './user-streams';

export interface LeaderWorkOptions {
  reconcileEveryMs: number;
}

/**
 * What exactly one node of the cluster does, on the strategy leader: keep
 * user-data streams open and reconcile every account at start and periodically.
 */
export class LeaderWork {
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<unknown> = Promise.resolve();
  private active = false;
  private syncTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { reconciler: Reconciler; streams: UserStreams; logger: Logger; options: LeaderWorkOptions },
  ) {}

  async start(): Promise<void> {
    this.active = true;
    const cycle = () => this.serial(async () => {
      await this.deps.reconciler.reconcileAll();
      await this.deps.streams.sync();
    });
    void cycle();
    this.every(this.deps.options.reconcileEveryMs, cycle);
  }

  /** A user's config changed: open (or reopen) their stream soon rather than at the next cycle. */
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
    this.timers.forEach(clearInterval);
    this.timers = [];
    await this.running.catch(() => undefined);
    await this.deps.streams.closeAll();
  }

  private every(ms: number, job: () => Promise<unknown>): void {
    const timer = setInterval(() => void job(), ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** One job at a time, so a slow pass never overlaps the next. */
  private serial(job: () => Promise<unknown>): Promise<unknown> {
    this.running = this.running.then(job).catch((err) => this.deps.logger.error({ err }, 'leader job failed'));
    return this.running;
  }
}
