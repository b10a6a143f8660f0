import type { MikroORM } from '@mikro-orm/postgresql';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import type { EventBus } from '../realtime/event-bus';
import { FailSafeAttemptCounter, MemoryAttemptCounter, RedisAttemptCounter, type AttemptCounter } from '../services/attempt-counter';
import { RateLimits, type LimitRule } from '../services/rate-limits';
import { createRedisClient, closeRedis } from '../realtime/redis-connection';
import { noEngineMetrics, type EngineMetrics } from '../engine/metrics-port';
import { AuditService } from '../services/audit.service';
import { AuthService } from '../services/auth.service';
import { MailService } from '../services/mail.service';
import { TokenService } from '../services/token.service';
import { UserService } from '../services/user.service';
import { BinanceGatewayFactory } from '../engine/exchange/binance-gateway-factory';
import { PaperGateway, PaperUserDataHub } from '../engine/exchange/paper-gateway';
import { ConfigGatewayOpener } from '../engine/gateway-opener';
import { DEFAULT_PLACEMENT_POLICY, OrderPlacer } from '../engine/execution/order-placement';
import { systemClock } from '../engine/execution/execution-clock';
import { PriceBook } from '../engine/price-book';
import { SignalExecutor } from '../engine/signal-executor';
import { AccountStore } from '../engine/account-store';
import { Reconciler } from '../engine/reconciler';
import { RiskService } from '../engine/risk/risk.service';
import { SignalRouter } from '../engine/signal-router';
import { UserContextCache } from '../engine/user-context';
import { Topic } from '../realtime/topics';
import { ExchangeConfigService } from '../services/exchange-config.service';
import { KeyCipher } from '../services/key-cipher';
import { KeyReverificationJob } from '../services/key-reverification.job';
import { SignalService } from '../services/signal.service';
import { TradingService } from '../services/trading.service';
import Decimal from 'decimal.js';

const LOGIN_LOCK = { limit: 5, lockMs: 15 * 60 * 1000 };

/** Everything resolvers and jobs call, built once per process. */
export interface Services {
  config: AppConfig;
  logger: Logger;
  orm: MikroORM;
  bus: EventBus;
  /** Shared counters; every key it writes carries the deployment's prefix (ioredis keyPrefix). */
  redis: Redis | null;
  /** Named per-key limits on the shared Redis (per-node memory while Redis is away). */
  rateLimits<Name extends string>(scope: string, rules: Record<Name, LimitRule>): RateLimits<Name>;
  metrics: EngineMetrics;
  tokens: TokenService;
  mail: MailService;
  audit: AuditService;
  auth: AuthService;
  users: UserService;
  cipher: KeyCipher;
  binance: BinanceGatewayFactory;
  prices: PriceBook;
  exchangeConfigs: ExchangeConfigService;
  keyReverification: KeyReverificationJob;
  signals: SignalService;
  trading: TradingService;
  contexts: UserContextCache;
  executor: SignalExecutor;
  accountStore: AccountStore;
  risk: RiskService;
  reconciler: Reconciler;
  /** Tells every node to drop cached engine state for this user. */
  userChanged(userId: string): void;
}

export function createServices(deps: {
  config: AppConfig;
  logger: Logger;
  orm: MikroORM;
  bus: EventBus;
  /** Prefix of every Redis key and channel of this deployment. */
  redisPrefix?: string;
  metrics?: EngineMetrics;
}): Services {
  const { config, logger, orm, bus } = deps;
  const metrics = deps.metrics ?? noEngineMetrics;
  const redisPrefix = deps.redisPrefix ?? 'btc-saas';
  const redis = config.REDIS_URL
    ? createRedisClient(config.REDIS_URL, { name: `${redisPrefix}:counters`, logger: logger.child({ module: 'redis' }), keyPrefix: `${redisPrefix}:` })
    : null;
  const loginAttempts: AttemptCounter = redis
    ? new FailSafeAttemptCounter(
        new RedisAttemptCounter(redis, 'login', LOGIN_LOCK),
        new MemoryAttemptCounter(LOGIN_LOCK),
        () => redis.status === 'ready',
        (err) => logger.warn({ err: err.message }, 'sign-in lockout counted on this node only while Redis is away'),
      )
    : new MemoryAttemptCounter(LOGIN_LOCK);
  const rateLimits = <Name extends string>(scope: string, rules: Record<Name, LimitRule>) => new RateLimits<Name>(redis, scope, rules);
  const tokens = new TokenService(config.secrets.jwtSecret);
  const mail = new MailService({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, dataDir: config.dataDir, logBodies: !config.production }, logger.child({ module: 'mail' }));
  const audit = new AuditService();
  const auth = new AuthService({ tokens, mail, audit, loginAttempts, bus, publicUrl: config.publicUrl, logger: logger.child({ module: 'auth' }) });
  const userChanged = (userId: string) => bus.publish(Topic.USER_CHANGED, { userId });
  const users = new UserService({ audit, auth, logger, onChanged: userChanged });

  const cipher = new KeyCipher(config.secrets.masterKey, config.secrets.masterKeyPrevious);
  const binance = BinanceGatewayFactory.fromConfig(config, logger.child({ module: 'binance' }), { metrics });
  const prices = new PriceBook();
  const paperHub = new PaperUserDataHub();
  const startingBalance = new Decimal(config.PAPER_STARTING_BALANCE);
  const opener = new ConfigGatewayOpener({
    cipher,
    binance,
    paper: (userId) => new PaperGateway({ em: orm.em, userId, prices, logger: logger.child({ module: 'paper' }), startingBalance, hub: paperHub }),
  });
  const exchangeConfigs = new ExchangeConfigService({
    cipher,
    gateways: opener,
    audit,
    mail,
    logger: logger.child({ module: 'exchange-config' }),
    symbol: config.STRATEGY_SYMBOL,
    requireIpWhitelist: config.REQUIRE_IP_WHITELIST,
    onChanged: userChanged,
  });
  const keyReverification = new KeyReverificationJob({ orm, exchangeConfigs, mail, logger: logger.child({ module: 'key-reverify' }) });
  const signals = new SignalService({ bus, audit, symbol: config.STRATEGY_SYMBOL, prices, execute: (signal) => executor.execute(signal) });
  const engineLogger = logger.child({ module: 'engine' });
  const risk = new RiskService({
    orm,
    bus,
    mail,
    audit,
    logger: logger.child({ module: 'risk' }),
    onChanged: userChanged,
    metrics,
    defaults: {
      maxDrawdown: new Decimal(config.RISK_MAX_DRAWDOWN),
      maxDailyLossPct: new Decimal(config.RISK_MAX_DAILY_LOSS_PCT),
      maxWeeklyLossPct: new Decimal(config.RISK_MAX_WEEKLY_LOSS_PCT),
      maxConsecutiveLosses: config.RISK_MAX_CONSECUTIVE_LOSSES,
    },
  });
  const contexts = new UserContextCache({ opener, logger: engineLogger, accountMaxAgeMs: 60_000 });
  const placer = new OrderPlacer({
    clock: systemClock,
    waitForPause: () => systemClock.sleep(binance.traffic.pausedForMs),
    onEvent: (event) => engineLogger.debug({ placement: event }, 'placement'),
  }, DEFAULT_PLACEMENT_POLICY);
  const executor = new SignalExecutor({
    orm,
    bus,
    router: new SignalRouter(),
    contexts,
    placer,
    prices,
    risk,
    logger: engineLogger,
    metrics,
    options: { concurrency: config.ENGINE_CONCURRENCY, maxLagMs: config.SIGNAL_MAX_LAG_MS, userTimeoutMs: config.ENGINE_USER_TIMEOUT_MS },
  });
  const accountStore = new AccountStore({ orm, bus, audit, risk, logger: engineLogger });
  const reconciler = new Reconciler({ orm, contexts, store: accountStore, risk, symbol: config.STRATEGY_SYMBOL, logger: logger.child({ module: 'reconciler' }), metrics });
  return {
    accountStore, reconciler, risk, rateLimits, metrics,
    config, logger, orm, bus, redis, tokens, mail, audit, auth, users, cipher, binance, prices, exchangeConfigs,
    keyReverification, signals, trading: new TradingService(), contexts, executor, userChanged,
  };
}

export async function closeServices(services: Services): Promise<void> {
  services.mail.close();
  await services.contexts.closeAll();
  services.binance.close();
  if (services.redis) await closeRedis(services.redis);
}
