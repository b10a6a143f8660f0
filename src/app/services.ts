import type { MikroORM } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { Engine, USER_CHANGED_TOPIC } from '../engine/engine';
import { systemWallClock, type Clock } from '../engine/ports';
import type { BinanceGatewayFactory } from '../engine/exchange/binance-gateway-factory';
import type { PriceBook } from '../engine/exchange/price-book';
import type { SignalExecutor } from '../engine/execution/signal-executor';
import type { UserContextCache } from '../engine/execution/user-context';
import type { Reconciler } from '../engine/cluster/reconciler';
import type { Ledger } from '../engine/ledger/ledger';
import type { JobScheduler } from '../jobs/job-scheduler';
import { bridgeEngineToBus } from '../realtime/engine-bridge';
import type { EventBus } from '../realtime/event-bus';
import { closeRedis, createRedisClient } from '../realtime/redis-connection';
import { noEngineMetrics, type EngineMetrics } from '../engine/metrics-port';
import { RateLimits, type LimitRule } from '../services/rate-limits';
import { AuditService } from '../services/audit.service';
import { AuthService } from '../services/auth.service';
import { createAuthLimits } from '../services/auth-limits';
import { KnownIpStore } from '../services/known-ips';
import { ExchangeConfigService } from '../services/exchange-config.service';
import { KeyCipher } from '../services/key-cipher';
import { KeyReverificationJob } from '../services/key-reverification.job';
import { MailService } from '../services/mail.service';
import { RiskService } from '../services/risk.service';
import { SignalService } from '../services/signal.service';
import { TokenService } from '../services/token.service';
import { TradingService } from '../services/trading.service';
import { UserService } from '../services/user.service';
import { ACCOUNT_LIMITS } from '../services/account-limits';
import { AdminConsoleService } from '../services/admin-console.service';
import { createBilling, PLAN_CHANGE_LIMIT, type BillingServices } from '../services/billing/billing-services';
import { EmailChangeService } from '../services/email-change.service';
import { EmailTokenService } from '../services/email-token.service';
import { EmailVerificationService } from '../services/email-verification.service';
import { MailRenderer } from '../services/notifications/mail-renderer';
import { NotificationService } from '../services/notifications/notification.service';
import { PasswordResetService } from '../services/password-reset.service';
import { PasswordGuessGuard } from '../services/password-guesses';
import { AuthLockStore } from '../services/auth-locks';

/** Everything resolvers and jobs call, built once per process. */
export interface Services {
  config: AppConfig;
  logger: Logger;
  orm: MikroORM;
  bus: EventBus;
  /** Shared counters; every key it writes carries the deployment's prefix (ioredis keyPrefix). */
  redis: Redis | null;
  /** The cluster's job queue and periodic work (graphile-worker on PostgreSQL). */
  jobs: JobScheduler;
  /** Named per-key limits on the shared Redis (per-node memory while Redis is away). */
  rateLimits<Name extends string>(scope: string, rules: Record<Name, LimitRule>): RateLimits<Name>;
  metrics: EngineMetrics;
  tokens: TokenService;
  mail: MailService;
  audit: AuditService;
  auth: AuthService;
  users: UserService;
  cipher: KeyCipher;
  exchangeConfigs: ExchangeConfigService;
  keyReverification: KeyReverificationJob;
  signals: SignalService;
  trading: TradingService;
  risk: RiskService;
  engine: Engine;
  // The engine's parts that operators' tools, benchmarks and tests reach for.
  binance: BinanceGatewayFactory;
  prices: PriceBook;
  contexts: UserContextCache;
  executor: SignalExecutor;
  ledger: Ledger;
  reconciler: Reconciler;
  /** Every mail to a user, queued (the engine's notices come through here too). */
  notifier: NotificationService;
  emailVerification: EmailVerificationService;
  passwordResets: PasswordResetService;
  adminConsole: AdminConsoleService;
  /** Profit settlement, plans, invoices and payments. */
  billing: BillingServices;
  /** Tells every node to drop cached engine state for this user. */
  userChanged(userId: string): void;
}

export function createServices(deps: {
  config: AppConfig;
  logger: Logger;
  orm: MikroORM;
  bus: EventBus;
  jobs: JobScheduler;
  databaseUrl: string;
  clock?: Clock;
  /** Prefix of every Redis key and channel of this deployment. */
  redisPrefix?: string;
  metrics?: EngineMetrics;
}): Services {
  const { config, logger, orm, bus, jobs } = deps;
  const metrics = deps.metrics ?? noEngineMetrics;
  const redisPrefix = deps.redisPrefix ?? 'btc-saas';
  const redis = config.REDIS_URL
    ? createRedisClient(config.REDIS_URL, { name: `${redisPrefix}:counters`, logger: logger.child({ module: 'redis' }), keyPrefix: `${redisPrefix}:` })
    : null;
  const rateLimits = <Name extends string>(scope: string, rules: Record<Name, LimitRule>) => new RateLimits<Name>(redis, scope, rules);
  const authLimits = createAuthLimits(redis, {
    networkFailures: config.AUTH_NETWORK_FAILURE_LIMIT,
    globalFailures: config.AUTH_GLOBAL_FAILURE_LIMIT,
    signupNetwork: config.SIGNUP_NETWORK_LIMIT,
  });
  const tokens = new TokenService(config.secrets.jwtSecret);
  const mail = new MailService({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, dataDir: config.dataDir, logBodies: !config.production }, logger.child({ module: 'mail' }));
  const audit = new AuditService();
  const cipher = new KeyCipher(config.secrets.masterKey, config.secrets.masterKeyPrevious);
  const notifier = new NotificationService({
    queue: jobs, mail, renderer: new MailRenderer(), orm, logger: logger.child({ module: 'notifications' }), publicUrl: config.publicUrl, sealer: cipher,
  });
  notifier.registerTasks(jobs);
  const emailTokens = new EmailTokenService();
  const accountLimits = rateLimits('accounts', ACCOUNT_LIMITS);
  // Called only after `auth` exists: a session ending is announced on the bus like every other.
  const sessions = { announceRevoked: (event: Parameters<AuthService['announceRevoked']>[0]) => auth.announceRevoked(event) };
  const guesses = new PasswordGuessGuard(authLimits, new AuthLockStore(orm));
  const emailChange = new EmailChangeService({ tokens: emailTokens, audit, notifier, limits: accountLimits, guesses, sessions });
  const knownIps = new KnownIpStore();
  const emailVerification = new EmailVerificationService({ tokens: emailTokens, audit, emailChange, knownIps });
  const passwordResets = new PasswordResetService({
    orm, tokens: emailTokens, audit, notifier, queue: jobs, limits: accountLimits, sessions, logger: logger.child({ module: 'password-reset' }), sealer: cipher,
  });
  passwordResets.registerTasks(jobs);
  const auth = new AuthService({
    tokens, notifier, emailTokens, verification: emailVerification, audit, bus, publicUrl: config.publicUrl, logger: logger.child({ module: 'auth' }),
    limits: authLimits,
    guesses,
    knownIps,
    signInNotifier: notifier,
  });
  const userChanged = (userId: string) => bus.publish(USER_CHANGED_TOPIC, { userId });
  const users = new UserService({ audit, auth, emailChange, notifier, logger, onChanged: userChanged });

  // The engine's ports, implemented by the services below (built after it, reached through these closures).
  let exchangeConfigs: ExchangeConfigService;
  let signals: SignalService;
  const engine = new Engine(
    {
      leads: config.ENGINE_ENABLED,
      strategy: {
        symbol: config.STRATEGY_SYMBOL,
        interval: config.STRATEGY_INTERVAL,
        feed: config.marketFeed,
        binanceRestUrl: config.BINANCE_FUTURES_URL,
        binanceWsUrl: config.BINANCE_FUTURES_WS_URL,
        simulatedSpeed: config.SIMULATED_FEED_SPEED,
      },
      binance: {
        futuresUrl: config.BINANCE_FUTURES_URL,
        futuresTestnetUrl: config.BINANCE_FUTURES_TESTNET_URL,
        spotUrl: config.BINANCE_SPOT_URL,
        spotTestnetUrl: config.BINANCE_SPOT_TESTNET_URL,
        futuresWsUrl: config.BINANCE_FUTURES_WS_URL,
        futuresTestnetWsUrl: config.BINANCE_FUTURES_TESTNET_WS_URL,
      },
      execution: { concurrency: config.ENGINE_CONCURRENCY, maxLagMs: config.SIGNAL_MAX_LAG_MS, userTimeoutMs: config.ENGINE_USER_TIMEOUT_MS },
      leaderCheckMs: config.ENGINE_LEADER_CHECK_MS,
      riskDefaults: {
        maxDrawdown: new Decimal(config.RISK_MAX_DRAWDOWN),
        maxDailyLossPct: new Decimal(config.RISK_MAX_DAILY_LOSS_PCT),
        maxWeeklyLossPct: new Decimal(config.RISK_MAX_WEEKLY_LOSS_PCT),
        maxConsecutiveLosses: config.RISK_MAX_CONSECUTIVE_LOSSES,
      },
      paperStartingBalance: new Decimal(config.PAPER_STARTING_BALANCE),
    },
    {
      orm,
      databaseUrl: deps.databaseUrl,
      logger,
      channel: bus,
      cipher,
      keyHealth: { keyRefused: (userId, reason, source) => exchangeConfigs.keyRefused(userId, reason, source) },
      signals: { recordStrategySignal: (em, input) => signals.recordStrategySignal(em, input) },
      audit,
      // Risk locks and lifts are mailed like every other notice: queued, retried, never in the judgement's way.
      riskNotifier: notifier,
      clock: deps.clock,
      metrics,
    },
  );
  bridgeEngineToBus(engine.events, bus);

  exchangeConfigs = new ExchangeConfigService({
    orm,
    cipher,
    gateways: engine.opener,
    audit,
    notifier,
    logger: logger.child({ module: 'exchange-config' }),
    symbol: config.STRATEGY_SYMBOL,
    requireIpWhitelist: config.REQUIRE_IP_WHITELIST,
    onChanged: userChanged,
    limits: rateLimits('exchange', { verify: { points: 5, windowSeconds: 600, message: 'Too many key verifications' } }),
    budget: engine.binance.traffic,
  });
  const keyReverification = new KeyReverificationJob({ orm, exchangeConfigs, audit, notifier, logger: logger.child({ module: 'key-reverify' }) });
  signals = new SignalService({ bus, audit, symbol: config.STRATEGY_SYMBOL, prices: engine.prices, execute: (signal) => engine.executor.execute(signal) });
  const trading = new TradingService();
  const risk = new RiskService(engine.risk);
  const billing = createBilling({
    orm, audit, logger, notifier, clock: deps.clock ?? systemWallClock, mode: config.PROFIT_SHARE_MODE, invoiceDueDays: config.INVOICE_DUE_DAYS,
    limits: rateLimits('billing', PLAN_CHANGE_LIMIT), onChanged: userChanged,
  });
  const adminConsole = new AdminConsoleService({
    users, exchangeConfigs, risk, trading, audit,
    billing: { profitOf: (em, id, days) => billing.profits.profitOf(em, id, days), invoicesOf: (em, id) => billing.invoices.invoicesOf(em, id) },
  });
  return {
    config, logger, orm, bus, redis, jobs, rateLimits, metrics, tokens, mail, audit, auth, users, cipher, exchangeConfigs, keyReverification, signals,
    trading,
    risk,
    engine,
    binance: engine.binance,
    prices: engine.prices,
    contexts: engine.contexts,
    executor: engine.executor,
    ledger: engine.ledger,
    reconciler: engine.reconciler,
    billing,
    userChanged,
    notifier, emailVerification, passwordResets, adminConsole,
  };
}

export async function closeServices(services: Services): Promise<void> {
  services.mail.close();
  await services.contexts.closeAll();
  services.binance.close();
  if (services.redis) await closeRedis(services.redis);
}
