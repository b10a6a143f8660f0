import { AppError } from '../../src/errors/app-error';
import pino from 'pino';
import { closeRedis, createRedisClient } from '../../src/realtime/redis-connection';
import { RateLimits } from '../../src/services/rate-limits';
import { eventually } from '../support/eventually';
import { startRedisProcess, type RedisProcess } from '../support/redis-process';

const code = (p: Promise<unknown>) => p.then(() => 'OK', (err: unknown) => (err instanceof AppError ? err.code : String(err)));

describe('named rate limits while Redis goes away (a redis-server this test kills)', () => {
  let redis: RedisProcess;
  let client: ReturnType<typeof createRedisClient>;
  let limits: RateLimits<'signIn'>;

  beforeAll(async () => {
    redis = await startRedisProcess();
    client = createRedisClient(redis.url, { name: 'test', logger: pino({ level: 'silent' }), keyPrefix: 'deploy-a:' });
    limits = new RateLimits(client, 'auth', { signIn: { points: 3, windowSeconds: 60, message: 'Too many sign-ins' } });
    await eventually('the client to connect', () => client.status === 'ready');
  });
  afterAll(async () => {
    await closeRedis(client);
    await redis.kill();
  });

  it('counts in Redis under the deployment prefix, falls back to per-node memory counts, and never errors', async () => {
    for (let i = 0; i < 3; i++) expect(await code(limits.consume('signIn', '203.0.113.9'))).toBe('OK');
    expect(await code(limits.consume('signIn', '203.0.113.9'))).toBe('RATE_LIMITED');
    const probe = redis.client();
    expect(await probe.keys('*')).toEqual(['deploy-a:auth:rl:signIn:203.0.113.9']);
    await probe.quit();

    await redis.kill();
    await eventually('the client to see the outage', () => client.status !== 'ready');
    // This node's own count: still a limit (narrower across nodes), never an INTERNAL error, never lifted.
    for (let i = 0; i < 3; i++) expect(await code(limits.consume('signIn', '198.51.100.7'))).toBe('OK');
    expect(await code(limits.consume('signIn', '198.51.100.7'))).toBe('RATE_LIMITED');

    await redis.start();
    await eventually('the client to reconnect', () => client.status === 'ready');
    expect(await code(limits.consume('signIn', '192.0.2.1'))).toBe('OK');
    const after = redis.client();
    expect(await after.keys('*')).toEqual(['deploy-a:auth:rl:signIn:192.0.2.1']);
    await after.quit();
  });
});
