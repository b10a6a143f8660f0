import proxyAddr from 'proxy-addr';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

const int = (min: number, max: number) =>
  z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(min).max(max);

const ratio = z.coerce.number({ message: 'must be a number' }).gt(0, 'must be above 0').max(1, 'must be at most 1');

const url = (protocols: string[]) =>
  z
    .string()
    .url('must be a URL')
    .refine((v) => protocols.includes(new URL(v).protocol), { message: `must start with ${protocols.join(' or ')}` })
    .transform((v) => v.replace(/\/+$/, ''));

const base64Key = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+=*$/.test(v), {
    message: 'must be base64 of exactly 32 bytes',
  });

/** The environment contract (`contract/ENV.md`): one schema, parsed once at start. */
const envSchema = z.object({
  PORT: int(0, 65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  MASTER_KEY: base64Key.optional(),
  MASTER_KEY_PREVIOUS: base64Key.optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 bytes').optional(),
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  MAIL_FROM: z.string().min(3).default('no-reply@localhost'),
  ADMIN_EMAIL: z.string().email('must be an email address').optional(),
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  BINANCE_FUTURES_URL: url(['http:', 'https:']).default('https://fapi.binance.com'),
  BINANCE_FUTURES_TESTNET_URL: url(['http:', 'https:']).default('https://testnet.binancefuture.com'),
  BINANCE_SPOT_URL: url(['http:', 'https:']).default('https://api.binance.com'),
  BINANCE_FUTURES_WS_URL: url(['ws:', 'wss:']).default('wss://fstream.binance.com'),
  BINANCE_FUTURES_TESTNET_WS_URL: url(['ws:', 'wss:']).default('wss://stream.binancefuture.com'),
  BINANCE_SPOT_TESTNET_URL: url(['http:', 'https:']).default('https://testnet.binance.vision'),
  MARKET_FEED: z.enum(['simulated', 'binance'], { message: 'must be simulated or binance' }).optional(),
  STRATEGY_SYMBOL: z.string().regex(/^[A-Z0-9]{5,20}$/, 'must be an upper-case symbol like BTCUSDT').default('BTCUSDT'),
  STRATEGY_INTERVAL: z
    .enum(['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'], { message: 'must be a Binance kline interval' })
    .default('15m'),
  ENGINE_ENABLED: bool.default(true),
  ENGINE_CONCURRENCY: int(1, 1024).default(32),
  SIGNAL_MAX_LAG_MS: int(0, 86_400_000).default(30_000),
  ENGINE_USER_TIMEOUT_MS: int(1000, 300_000).default(20_000),
  ENGINE_LEADER_CHECK_MS: int(100, 600_000).default(5_000),
  ENGINE_RECONCILE_MS: int(1000, 86_400_000).default(60_000),
  PROFIT_SHARE_MODE: z.enum(['daily', 'high_water_mark'], { message: 'must be daily or high_water_mark' }).default('daily'),
  INVOICE_DUE_DAYS: int(1, 365).default(14),
  REQUIRE_IP_WHITELIST: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z
    .string()
    .transform((v) => v.split(',').map((o) => o.trim()).filter(Boolean))
    .refine((list) => list.every(isOrigin), { message: 'must be comma-separated origins like https://app.example.com' })
    .optional(),
  TRUST_PROXY: z
    .string()
    .refine(isTrustProxy, { message: 'must be true, false, a hop count or a comma-separated list of addresses/CIDRs' })
    .default('false'),
  // Not in ENV.md's table yet: documented in the README.
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _ . : -').optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  RISK_MAX_DRAWDOWN: ratio.default(0.2),
  RISK_MAX_DAILY_LOSS_PCT: ratio.default(0.05),
  RISK_MAX_WEEKLY_LOSS_PCT: ratio.default(0.1),
  RISK_MAX_CONSECUTIVE_LOSSES: int(1, 1000).default(5),
  SIMULATED_FEED_SPEED: z.coerce.number().positive().max(100_000).default(600),
  PAPER_STARTING_BALANCE: z.string().regex(/^\d+(\.\d+)?$/, 'must be a decimal number').default('10000'),
  AUTH_NETWORK_FAILURE_LIMIT: int(1, 1_000_000).default(30),
  AUTH_GLOBAL_FAILURE_LIMIT: int(1, 10_000_000).default(300),
  SIGNUP_NETWORK_LIMIT: int(1, 1_000_000).default(20),
});

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

function isTrustProxy(value: string): boolean {
  if (/^(true|false|\d{1,2})$/.test(value)) return true;
  try {
    proxyAddr.compile(value.split(',').map((v) => v.trim()));
    return true;
  } catch {
    return false;
  }
}

function isLocalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '0.0.0.0' || host === '::1' || host === '::' || /^127\./.test(host);
}

export type RawConfig = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; the first problem names its variable. Empty strings count as unset. */
export function parseEnv(env: NodeJS.ProcessEnv): RawConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const cfg = result.data;
  if (cfg.NODE_ENV === 'production') {
    // SMTP_URL too: without it mails (verification and reset tokens) would go to the log.
    for (const name of ['MASTER_KEY', 'JWT_SECRET', 'DATABASE_URL', 'SMTP_URL', 'PUBLIC_URL'] as const) {
      if (!cfg[name]) throw new ConfigError(name, 'is required when NODE_ENV=production');
    }
    if (isLocalHost(new URL(cfg.PUBLIC_URL!).hostname)) {
      throw new ConfigError('PUBLIC_URL', 'must be the public address users reach, not a local one, when NODE_ENV=production');
    }
  }
  if ((cfg.ADMIN_EMAIL && !cfg.ADMIN_PASSWORD) || (!cfg.ADMIN_EMAIL && cfg.ADMIN_PASSWORD)) {
    throw new ConfigError(cfg.ADMIN_EMAIL ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL', 'must be set together with its pair');
  }
  return cfg;
}
