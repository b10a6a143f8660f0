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
    const secrets = { NODE_ENV: 'production', MASTER_KEY: KEY, JWT_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://h/db' };
    // Without SMTP the mails (and their tokens) would go to the log; links must point where users are.
    expect(() => parseEnv(secrets)).toThrow(/^Invalid configuration: SMTP_URL is required when NODE_ENV=production/);
    const mailed = { ...secrets, SMTP_URL: 'smtp://mail.example.com:587' };
    expect(() => parseEnv(mailed)).toThrow(/^Invalid configuration: PUBLIC_URL is required/);
    for (const local of ['http://localhost:4000', 'http://127.0.0.1', 'http://[::1]:4000', 'http://0.0.0.0', 'http://app.localhost']) {
      expect(() => parseEnv({ ...mailed, PUBLIC_URL: local })).toThrow(/^Invalid configuration: PUBLIC_URL must be the public address/);
    }
    expect(loadConfig({ ...mailed, PUBLIC_URL: 'https://trade.example.com' }).marketFeed).toBe('binance');
  });

  it.each([
    ['CORS_ORIGINS', { CORS_ORIGINS: 'https://app.example.com/' }],
    ['CORS_ORIGINS', { CORS_ORIGINS: 'app.example.com' }],
    ['TRUST_PROXY', { TRUST_PROXY: 'yes' }],
    ['TRUST_PROXY', { TRUST_PROXY: '10.0.0.0/99' }],
    ['REDIS_PREFIX', { REDIS_PREFIX: 'has space' }],
    ['METRICS_TOKEN', { METRICS_TOKEN: 'short' }],
  ])('names %s when its value is bad (%j)', (variable, env) => {
    expect(() => parseEnv(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('reads the browser and proxy settings', () => {
    expect(parseEnv({ CORS_ORIGINS: 'https://a.example.com, http://localhost:3000' }).CORS_ORIGINS).toEqual(['https://a.example.com', 'http://localhost:3000']);
    expect(parseEnv({}).TRUST_PROXY).toBe('false');
    for (const ok of ['true', 'false', '2', 'loopback', '10.0.0.0/8, 192.168.1.1']) expect(parseEnv({ TRUST_PROXY: ok }).TRUST_PROXY).toBe(ok);
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
