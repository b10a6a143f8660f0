import { mkdtempSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/app-config';
import { ConfigError, parseEnv } from '../../src/config/config';

const KEY = Buffer.alloc(32, 1).toString('base64');

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const cfg = parseEnv({});
    expect(cfg).toMatchObject({ PORT: 4000, HOST: '0.0.0.0', NODE_ENV: 'development', ENGINE_CONCURRENCY: 32, SIGNAL_MAX_LAG_MS: 30000, STRATEGY_SYMBOL: 'BTCUSDT', STRATEGY_INTERVAL: '15m', PROFIT_SHARE_MODE: 'daily', REQUIRE_IP_WHITELIST: false });
    expect(cfg.BINANCE_FUTURES_URL).toBe('https://fapi.binance.com');
  });

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['ENGINE_CONCURRENCY', { ENGINE_CONCURRENCY: '0' }],
    ['MARKET_FEED', { MARKET_FEED: 'kraken' }],
    ['MASTER_KEY', { MASTER_KEY: 'c2hvcnQ=' }],
    ['JWT_SECRET', { JWT_SECRET: 'short' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
    ['BINANCE_FUTURES_WS_URL', { BINANCE_FUTURES_WS_URL: 'https://not-a-socket' }],
    ['REQUIRE_IP_WHITELIST', { REQUIRE_IP_WHITELIST: 'maybe' }],
    ['ADMIN_PASSWORD', { ADMIN_EMAIL: 'a@b.co' }],
  ])('names %s when its value is bad', (variable, env) => {
    expect(() => parseEnv(env)).toThrow(ConfigError);
    expect(() => parseEnv(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('requires every secret in production', () => {
    expect(() => parseEnv({ NODE_ENV: 'production' })).toThrow(/MASTER_KEY is required/);
    expect(() => parseEnv({ NODE_ENV: 'production', MASTER_KEY: KEY })).toThrow(/JWT_SECRET is required/);
    expect(() => parseEnv({ NODE_ENV: 'production', MASTER_KEY: KEY, JWT_SECRET: 'x'.repeat(32) })).toThrow(/DATABASE_URL is required/);
    expect(loadConfig({ NODE_ENV: 'production', MASTER_KEY: KEY, JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db' }).marketFeed).toBe('binance');
  });

  it('generates development secrets once into DATA_DIR with mode 0600, with a warning', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cfg-'));
    const warnings: unknown[] = [];
    const first = loadConfig({ DATA_DIR: dir }, { warn: (...a: unknown[]) => warnings.push(a) } as never);
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.secrets.masterKey.equals(second.secrets.masterKey)).toBe(true);
    expect(first.secrets.masterKey).toHaveLength(32);
    expect(statSync(path.join(dir, 'dev-secrets.json')).mode & 0o777).toBe(0o600);
    expect(warnings).toHaveLength(1);
    expect(first.marketFeed).toBe('simulated');
  });
});
