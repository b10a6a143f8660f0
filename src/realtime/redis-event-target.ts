import type Redis from 'ioredis';
import type { Logger } from 'pino';

type Listener = (event: CustomEvent) => void;
type ListenerOrObject = Listener | { handleEvent: Listener };

/**
 * The event target @graphql-yoga/subscription's pub/sub runs on, over Redis
 * pub/sub, with what the library's own Redis target lacks: channels carry the
 * deployment's prefix, a publish or (un)subscribe that fails while Redis is
 * away is reported instead of rejecting unhandled (which ends the process),
 * and every channel is subscribed again when the connection comes back.
 */
export function createRedisEventTarget(deps: {
  publishClient: Redis;
  subscribeClient: Redis;
  prefix: string;
  logger: Logger;
  onPublish: (ok: boolean, channel: string, err?: Error) => void;
}) {
  const { publishClient, subscribeClient, prefix, logger } = deps;
  const head = `${prefix}:`;
  const listeners = new Map<string, Set<Listener>>();
  const channelOf = (topic: string) => `${head}${topic}`;

  const subscribe = (topic: string) =>
    void subscribeClient.subscribe(channelOf(topic)).catch((err: Error) => {
      logger.warn({ topic, err: err.message }, 'bus subscribe failed; retried when Redis is back');
    });

  subscribeClient.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(head)) return;
    const topic = channel.slice(head.length);
    const callbacks = listeners.get(topic);
    if (!callbacks) return;
    let detail: unknown;
    try {
      detail = message === '' ? null : JSON.parse(message);
    } catch {
      logger.warn({ topic }, 'bus message is not JSON; dropped');
      return;
    }
    const event = new CustomEvent(topic, { detail });
    for (const callback of callbacks) callback(event);
  });

  const toListener = (l: ListenerOrObject): Listener => ('handleEvent' in l ? l.handleEvent : l);

  return {
    channelOf,
    /** Re-subscribes every channel after a reconnect (a SUBSCRIBE sent during the outage may have failed). */
    resubscribe(): void {
      for (const topic of listeners.keys()) subscribe(topic);
    },
    addEventListener(topic: string, callback: ListenerOrObject | null) {
      if (!callback) return;
      let set = listeners.get(topic);
      if (!set) {
        set = new Set();
        listeners.set(topic, set);
        subscribe(topic);
      }
      set.add(toListener(callback));
    },
    removeEventListener(topic: string, callback: ListenerOrObject | null) {
      if (!callback) return;
      const set = listeners.get(topic);
      if (!set) return;
      set.delete(toListener(callback));
      if (set.size > 0) return;
      listeners.delete(topic);
      void subscribeClient.unsubscribe(channelOf(topic)).catch(() => undefined);
    },
    dispatchEvent(event: CustomEvent): boolean {
      const channel = channelOf(event.type);
      const body = event.detail === undefined ? '' : JSON.stringify(event.detail);
      publishClient.publish(channel, body).then(
        () => deps.onPublish(true, channel),
        (err: Error) => deps.onPublish(false, channel, err),
      );
      return true;
    },
  };
}
