import { createPubSub } from '@graphql-yoga/subscription';
import pino, { type Logger } from 'pino';
import { closeRedis, createRedisClient, redisAnswers } from './redis-connection';
import { createRedisEventTarget } from './redis-event-target';

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
  /** Never throws: over Redis a publish that fails is logged and counted (`publishFailures`). */
  publish(topic: string, payload: unknown): void;
  publishToUser(topic: string, userId: string, payload: unknown): void;
  subscribe<T>(topic: string, id?: string): AsyncIterable<T> & AsyncIterator<T>;
  /** The Redis channel a topic travels on (the deployment's prefix first). */
  channel(topic: string): string;
  /** Runs `listener` each time Redis comes back after an outage, once subscriptions are restored. */
  onReconnect(listener: () => void): void;
  /** Publishes that never reached Redis since start. */
  readonly publishFailures: number;
  /** True once the bus can deliver (Redis connected and answering PING). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface EventBusOptions {
  redisUrl?: string;
  /** Prefix of every channel, so deployments sharing a Redis never see each other's events. */
  prefix?: string;
  logger?: Logger;
}

export function createEventBus(options: EventBusOptions = {}): EventBus {
  const prefix = options.prefix ?? 'btc-saas';
  if (!options.redisUrl) {
    const pubSub = createPubSub() as unknown as BusPubSub;
    return {
      pubSub,
      distributed: false,
      publish: (topic, payload) => pubSub.publish(topic, payload),
      publishToUser: (topic, userId, payload) => pubSub.publish(topic, userId, payload),
      subscribe: <T>(topic: string, id?: string) =>
        (id === undefined ? pubSub.subscribe(topic) : pubSub.subscribe(topic, id)) as unknown as AsyncIterable<T> &
          AsyncIterator<T>,
      channel: (topic) => `${prefix}:${topic}`,
      onReconnect: () => undefined,
      publishFailures: 0,
      ping: async () => true,
      close: async () => undefined,
    };
  }

  const logger = (options.logger ?? pino({ level: 'silent' })).child({ module: 'bus' });
  const reconnectListeners: Array<() => void> = [];
  let failures = 0;
  let failingSince = 0;
  const publishClient = createRedisClient(options.redisUrl, { name: `${prefix}:publish`, logger });
  const subscribeClient = createRedisClient(options.redisUrl, {
    name: `${prefix}:subscribe`,
    logger,
    onReady: () => {
      target.resubscribe();
      for (const listener of reconnectListeners) {
        try {
          listener();
        } catch (err) {
          logger.error({ err }, 'bus reconnect listener threw');
        }
      }
    },
  });
  const target = createRedisEventTarget({
    publishClient,
    subscribeClient,
    prefix,
    logger,
    // One line when publishing starts failing and one when it works again, each failure counted.
    onPublish: (ok, channel, err) => {
      if (ok) {
        if (failingSince > 0) logger.info({ lost: failures - failingSince + 1 }, 'bus publishes reach Redis again');
        failingSince = 0;
        return;
      }
      failures += 1;
      if (failingSince === 0) {
        failingSince = failures;
        logger.error({ channel, err: err?.message }, 'bus publish failed: event lost (Redis unreachable)');
      }
    },
  });
  const pubSub = createPubSub({ eventTarget: target as never }) as unknown as BusPubSub;
  return {
    pubSub,
    distributed: true,
    publish: (topic, payload) => pubSub.publish(topic, payload),
    publishToUser: (topic, userId, payload) => pubSub.publish(topic, userId, payload),
    subscribe: <T>(topic: string, id?: string) =>
      (id === undefined ? pubSub.subscribe(topic) : pubSub.subscribe(topic, id)) as unknown as AsyncIterable<T> &
        AsyncIterator<T>,
    channel: (topic) => target.channelOf(topic),
    onReconnect: (listener) => reconnectListeners.push(listener),
    get publishFailures() {
      return failures;
    },
    // A subscriber-mode connection answers PING differently: its being connected is the signal.
    ping: async () => subscribeClient.status === 'ready' && (await redisAnswers(publishClient)),
    close: () => closeRedis(publishClient, subscribeClient),
  };
}
