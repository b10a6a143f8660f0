import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { OWNER_FILTER } from '../entities/owner-filter';
import { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import type { AccountStore } from './account-store';
import type { UserDataStream } from './exchange/exchange-gateway';
import type { EngineMetrics } from './metrics-port';
import type { UserContextCache } from './user-context';

/**
 * Keeps one user-data stream open per account with a valid config, so
 * orders, fills and positions are current without polling. A user whose
 * stream is down is covered by the reconciler's REST pass.
 */
export class UserStreams {
  private readonly streams = new Map<string, { stamp: string; stream: UserDataStream }>();

  constructor(private readonly deps: { orm: MikroORM; contexts: UserContextCache; store: AccountStore; logger: Logger; metrics?: EngineMetrics }) {}

  /** Opens streams that are missing (new users, rebuilt contexts); closes those of users no longer valid. */
  async sync(): Promise<void> {
    const configs = await this.deps.orm.em
      .fork()
      .find(UserExchangeConfig, { isValid: true }, { filters: { [OWNER_FILTER]: false }, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    const wanted = new Set(configs.map((c) => c.user.id));
    for (const [userId, entry] of this.streams) {
      if (!wanted.has(userId) || !entry.stream.connected) await this.close(userId);
    }
    for (const config of configs) {
      const userId = config.user.id;
      const ctx = await this.deps.contexts.get(config).catch(() => null);
      if (!ctx) continue;
      const current = this.streams.get(userId);
      if (current && current.stamp === ctx.configStamp) continue;
      if (current) await this.close(userId);
      try {
        const stream = await ctx.gateway.openUserDataStream({
          onOrderUpdate: (event) =>
            void this.deps.store.applyOrderUpdate(userId, event).catch((err) => this.deps.logger.error({ userId, err }, 'order update not stored')),
          onAccountUpdate: (event) => {
            this.deps.contexts.noteAccountUpdate(userId, event);
            void this.deps.store
              .applyPositions(userId, event.positions, 'STREAM')
              .catch((err) => this.deps.logger.error({ userId, err }, 'account update not stored'));
          },
        });
        this.streams.set(userId, { stamp: ctx.configStamp, stream });
      } catch (err) {
        this.deps.logger.warn({ userId, err: (err as Error).message }, 'user-data stream could not open; REST reconciliation covers it');
      }
    }
    this.deps.metrics?.streamsConnected(this.streams.size);
  }

  private async close(userId: string): Promise<void> {
    const entry = this.streams.get(userId);
    this.streams.delete(userId);
    await entry?.stream.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.streams.keys()].map((id) => this.close(id)));
    this.deps.metrics?.streamsConnected(0);
  }
}
