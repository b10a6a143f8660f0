import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { createPubSub } from '@graphql-yoga/subscription';
import Redis from 'ioredis';

/**
 * One publish/subscribe interface for the whole process: Redis pub/sub when
 * REDIS_URL is set (every node sees every event), in-process otherwise.
 * Payloads must be JSON-serialisable: over Redis they are JSON.
 */
export interface BusPubSub {
  publish(routingKey: string, ...args: unknown[]): void;
  subscribe(routingKey: string, dynamicId?: unknown): AsyncIterable<unknown> & AsyncIterator<unknown>;
}

export interface EventBus {
  readonly pubSub: BusPubSub;
  readonly distributed: boolean;
  publish(topic: string, payload: unknown): void;
  publishToUser(topic: string, userId: string, payload: unknown): void;
  subscribe<T>(topic: string, id?: string): AsyncIterable<T> & AsyncIterator<T>;
  /** True once the bus can deliver (Redis answers PING). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createEventBus(redisUrl?: string): EventBus {
  if (!redisUrl) {
    const pubSub = createPubSub() as unknown as BusPubSub;
    return {
      pubSub,
      distributed: false,
      publish: (topic, payload) => pubSub.publish(topic, payload),
      publishToUser: (topic, userId, payload) => pubSub.publish(topic, userId, payload),
      subscribe: <T>(topic: string, id?: string) =>
        (id === undefined ? pubSub.subscribe(topic) : pubSub.subscribe(topic, id)) as unknown as AsyncIterable<T> &
          AsyncIterator<T>,
      ping: async () => true,
      close: async () => undefined,
    };
  }
  const options = { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  const pubSub = createPubSub({ eventTarget: createRedisEventTarget({ publishClient, subscribeClient }) }) as unknown as BusPubSub;
  return {
    pubSub,
    distributed: true,
    publish: (topic, payload) => pubSub.publish(topic, payload),
    publishToUser: (topic, userId, payload) => pubSub.publish(topic, userId, payload),
    subscribe: <T>(topic: string, id?: string) =>
      (id === undefined ? pubSub.subscribe(topic) : pubSub.subscribe(topic, id)) as unknown as AsyncIterable<T> &
        AsyncIterator<T>,
    ping: async () => {
      try {
        return (await publishClient.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    close: async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  };
}
