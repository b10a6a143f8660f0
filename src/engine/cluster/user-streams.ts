import type { MikroORM } from '@mikro-orm/postgresql';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { Exchange } from '../../entities/enums';
import { OWNER_FILTER } from '../../entities/owner-filter';
import { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import type { UserDataStream } from '../exchange/exchange-gateway';
import type { UserContextCache } from '../execution/user-context';
import type { Ledger } from '../ledger/ledger';
import type { EngineMetrics } from '../metrics-port';
import { CredentialsUnreadableError, type KeyHealth } from '../ports';
import { withTimeLimit } from './time-limit';

/** One stream that does not open within this long is given up for this pass (the next sync tries again). */
const OPEN_TIME_LIMIT_MS = 15_000;

interface Entry {
  stamp: string;
  stream: UserDataStream;
  /** Since when the stream has been connected without a gap (null while it is down). */
  connectedSince: Date | null;
  /** This user's events, stored one after the other in the order the venue sent them. */
  queue: Promise<void>;
}

/**
 * Keeps one user-data stream open per account whose key is valid, so orders,
 * fills, positions and balances reach the ledger without polling. A user whose
 * stream is down (or was, since the last full pass) is covered by the
 * reconciler's REST pass. One account's stream that hangs or fails never holds
 * up another's.
 */
export class UserStreams {
  private readonly streams = new Map<string, Entry>();
  private readonly opening = new Set<Promise<UserDataStream>>();
  private closed = false;

  constructor(
    private readonly deps: {
      orm: MikroORM;
      contexts: UserContextCache;
      ledger: Ledger;
      keyHealth: KeyHealth;
      logger: Logger;
      metrics?: Pick<EngineMetrics, 'streamsConnected'>;
      openTimeLimitMs?: number;
    },
  ) {}

  get connectedCount(): number {
    let n = 0;
    for (const entry of this.streams.values()) if (entry.stream.connected) n++;
    return n;
  }

  /** When this user's stream has been up without a gap since (null: not connected now). */
  connectedSince(userId: string): Date | null {
    const entry = this.streams.get(userId);
    return entry && entry.stream.connected ? entry.connectedSince : null;
  }

  /** Opens streams that are missing (new users, rebuilt contexts); closes those of users whose key is no longer valid. */
  async sync(): Promise<void> {
    if (this.closed) return;
    // A key whose last verdict is invalid is never used for signing, a stream's listen key included.
    const configs = await this.deps.orm.em
      .fork()
      .find(UserExchangeConfig, { isValid: true }, { filters: { [OWNER_FILTER]: false }, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    const wanted = new Map(configs.map((c) => [c.user.id, c]));
    for (const [userId, entry] of this.streams) {
      if (!wanted.has(userId) || !entry.stream.connected) await this.close(userId);
    }
    const limit = pLimit(8);
    await Promise.all(configs.map((config) => limit(() => this.ensure(config))));
    this.deps.metrics?.streamsConnected(this.connectedCount);
  }

  private async ensure(config: UserExchangeConfig): Promise<void> {
    if (this.closed) return;
    const userId = config.user.id;
    let ctx;
    try {
      ctx = await this.deps.contexts.get(config);
    } catch (err) {
      if (err instanceof CredentialsUnreadableError) {
        await this.deps.keyHealth.keyRefused(userId, 'the stored API key could not be read; set the API key and secret again', 'USER_STREAM');
      }
      return;
    }
    const current = this.streams.get(userId);
    if (current && current.stamp === ctx.configStamp) return;
    if (current) await this.close(userId);
    const entry: Entry = { stamp: ctx.configStamp, stream: null as unknown as UserDataStream, connectedSince: null, queue: Promise.resolve() };
    const serial = (work: () => Promise<void>, what: string) => {
      entry.queue = entry.queue.then(work).catch((err) => this.deps.logger.error({ userId, err }, `${what} not stored`));
    };
    const opening = ctx.gateway.openUserDataStream({
      onOrderUpdate: (event) => serial(() => this.deps.ledger.recordOrderUpdate(userId, event), 'order update'),
      onAccountUpdate: (event) =>
        serial(async () => {
          await this.deps.ledger.recordAccountUpdate(userId, event);
          // Sizing sees the new balance only once risk has seen the money that moved it (a withdrawal is no drawdown).
          this.deps.contexts.noteAccountUpdate(userId, event);
        }, 'account update'),
      onStateChange: (state) => {
        entry.connectedSince = state === 'connected' ? new Date() : null;
      },
    });
    this.opening.add(opening);
    try {
      const stream = await withTimeLimit(opening, this.deps.openTimeLimitMs ?? OPEN_TIME_LIMIT_MS, 'the user-data stream did not open in time');
      if (this.closed) {
        await stream.close().catch(() => undefined);
        return;
      }
      entry.stream = stream;
      entry.connectedSince ??= stream.connected ? new Date() : null;
      this.streams.set(userId, entry);
    } catch (err) {
      // A stream that opens after we gave up on it must not linger.
      void opening.then((s) => s.close()).catch(() => undefined);
      const paper = config.exchange === Exchange.PAPER;
      this.deps.logger.warn({ userId, paper, err: (err as Error).message }, 'user-data stream could not open; REST reconciliation covers it');
    } finally {
      this.opening.delete(opening);
    }
  }

  private async close(userId: string): Promise<void> {
    const entry = this.streams.get(userId);
    this.streams.delete(userId);
    await entry?.stream.close().catch(() => undefined);
  }

  /** Shutdown: no stream still opening may hold it up. */
  async closeAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.streams.keys()].map((id) => this.close(id)));
    this.deps.metrics?.streamsConnected(0);
    for (const opening of this.opening) void opening.then((stream) => stream.close()).catch(() => undefined);
  }

  /** Leadership moved away and back: open again. */
  reopen(): void {
    this.closed = false;
  }
}
