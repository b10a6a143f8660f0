import Redis, { type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/**
 * An ioredis client that survives Redis going away: it reconnects forever
 * (ioredis' default back-off), commands fail after a few reconnection
 * attempts instead of waiting for Redis to return, and the outage is logged
 * once when it starts and once when it ends, never as an unhandled 'error'.
 */
export function createRedisClient(
  url: string,
  options: { name: string; logger: Logger; keyPrefix?: string; onReady?: () => void; extra?: RedisOptions },
): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectionName: options.name,
    // A socket that does not close on QUIT (Redis gone) is destroyed soon, not after ioredis' default 2 s.
    disconnectTimeout: 200,
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    ...options.extra,
  });
  let everReady = false;
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    options.logger.error({ redis: options.name, err: err.message }, 'redis unreachable; retrying in the background');
  });
  client.on('end', () => undefined);
  client.on('ready', () => {
    if (down || everReady) options.logger.info({ redis: options.name }, 'redis connection restored');
    down = false;
    if (everReady) options.onReady?.();
    everReady = true;
  });
  client.on('close', () => {
    if (!everReady || down) return;
    down = true;
    options.logger.warn({ redis: options.name }, 'redis connection closed; reconnecting');
  });
  return client;
}

/** True when the client is connected and Redis answers PING within `timeoutMs`. */
export async function redisAnswers(client: Redis, timeoutMs = 1000): Promise<boolean> {
  if (client.status !== 'ready') return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      client.ping(),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), timeoutMs);
      }),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT where Redis answers, drop the socket where it does not (shutdown must not wait out an outage). */
export async function closeRedis(...clients: Redis[]): Promise<void> {
  await Promise.allSettled(clients.map((c) => (c.status === 'ready' ? c.quit() : Promise.resolve(c.disconnect()))));
}
