import { Client } from 'pg';
import type { Logger } from 'pino';

/**
 * Cluster-wide leadership through a PostgreSQL session advisory lock: the
 * holder's connection owns the lock, so a node that dies (or loses its
 * connection) releases it and a standby takes over on its next attempt.
 */
export class AdvisoryLeaderLock {
  private client: Client | null = null;
  private leading = false;

  constructor(private readonly url: string, private readonly key: number, private readonly logger: Logger) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Tries once; true when this node holds the lock afterwards. */
  async tryAcquire(): Promise<boolean> {
    try {
      if (this.leading && this.client) {
        await this.client.query('select 1');
        return true;
      }
      if (!this.client) {
        const client = new Client({ connectionString: this.url });
        client.on('error', (err) => {
          this.logger.warn({ err: err.message }, 'leader lock connection lost');
          this.drop();
        });
        await client.connect();
        this.client = client;
      }
      const res = await this.client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [this.key]);
      this.leading = res.rows[0]?.ok === true;
      return this.leading;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'leader lock attempt failed');
      this.drop();
      return false;
    }
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.leading = false;
    if (client) await client.end().catch(() => undefined);
  }

  private drop(): void {
    const client = this.client;
    this.client = null;
    this.leading = false;
    client?.end().catch(() => undefined);
  }
}
