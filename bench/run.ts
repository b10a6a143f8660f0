import { JobScheduler } from '../src/jobs/job-scheduler';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { closeServices, createServices, type Services } from '../src/app/services';
import { loadConfig } from '../src/config/app-config';
import { DEFAULT_PLACEMENT_POLICY, OrderPlacer } from '../src/engine/execution/order-placement';
import { systemClock } from '../src/engine/execution/execution-clock';
import { ExchangeTrafficControl } from '../src/engine/exchange/exchange-traffic-control';
import { SignalExecutor } from '../src/engine/execution/signal-executor';
import { SignalRouter } from '../src/engine/routing/signal-router';
import { createEventBus } from '../src/realtime/event-bus';
import { createBenchDatabase } from './bench-database';
import { note } from './bench-report';
import { seedUsers } from './bench-users';
import { benchFanOut, EXCHANGE_LATENCY_MS, IncompleteFanOutError } from './fanout-bench';
import { RemoteFakeBinance } from './remote-fake-binance';
import { benchSettlement } from './settlement-bench';
import { benchStrategyEval } from './strategy-bench';

const MASTER_KEY = Buffer.alloc(32, 11).toString('base64');
const JWT_SECRET = 'bench-jwt-secret-that-is-long-enough-0123456789';

/** The same engine as `services.executor` (same contexts, risk, router and placement policy; Services does not expose its placer) with a pool of one. */
function sequentialExecutor(services: Services, logger: pino.Logger): SignalExecutor {
  const { config } = services;
  return new SignalExecutor({
    orm: services.orm,
    router: new SignalRouter(),
    ledger: services.ledger,
    contexts: services.contexts,
    placer: new OrderPlacer({ clock: systemClock, waitForPause: () => systemClock.sleep(services.binance.traffic.pausedForMs) }, DEFAULT_PLACEMENT_POLICY),
    prices: services.prices,
    risk: services.engine.risk,
    keyHealth: { keyRefused: (userId, reason, source) => services.exchangeConfigs.keyRefused(userId, reason, source) },
    logger,
    options: { concurrency: 1, maxLagMs: config.SIGNAL_MAX_LAG_MS, userTimeoutMs: config.ENGINE_USER_TIMEOUT_MS },
    clock: systemClock,
  });
}

async function main(): Promise<void> {
  benchStrategyEval();

  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const poolOverride = process.env.BENCH_DB_POOL_MAX ? Number(process.env.BENCH_DB_POOL_MAX) : undefined;
    const db = await createBenchDatabase(poolOverride);
    cleanups.push(() => db.close());
    const fake = await RemoteFakeBinance.start();
    cleanups.push(() => fake.stop());
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'btc-saas-bench-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

    const config = loadConfig({
      DATABASE_URL: db.url,
      BINANCE_FUTURES_URL: fake.url,
      BINANCE_FUTURES_TESTNET_URL: fake.url,
      BINANCE_SPOT_URL: fake.url,
      BINANCE_SPOT_TESTNET_URL: fake.url,
      BINANCE_FUTURES_WS_URL: fake.wsUrl,
      BINANCE_FUTURES_TESTNET_WS_URL: fake.wsUrl,
      MASTER_KEY,
      JWT_SECRET,
      DATA_DIR: dataDir,
      ENGINE_ENABLED: 'false',
      LOG_LEVEL: 'silent',
      PORT: '0',
    });
    const logger = pino({ level: 'silent' });
    const bus = createEventBus();
    cleanups.push(() => bus.close());
    // The bench drives the executor directly: the job scheduler is built but never started.
    const services = createServices({ config, logger, orm: db.orm, bus, jobs: new JobScheduler({ connectionString: db.url, logger }), databaseUrl: db.url });
    cleanups.push(() => closeServices(services));
    // createServices takes no traffic options: the shared control is swapped before any gateway exists.
    // With the default 2,000 weight/min budget, N = 1,000 CLOSEs (weight 5 each) would wait for the next minute.
    (services.binance as { traffic: ExchangeTrafficControl }).traffic = new ExchangeTrafficControl({ weightBudgetPerMinute: Infinity, logger });
    const sequential = sequentialExecutor(services, logger.child({ module: 'engine-sequential' }));

    await fake.setLatency(EXCHANGE_LATENCY_MS);
    note(`fake Binance in a child process answering after ${EXCHANGE_LATENCY_MS} ms; pool ENGINE_CONCURRENCY=${config.ENGINE_CONCURRENCY}; ${os.cpus().length} CPUs`);
    if (poolOverride !== undefined) note(`BENCH_DB_POOL_MAX: ORM pool max ${db.poolMax} instead of the server's`);
    note('bounds: fan-out ceil(N/pool)×50 ms; sequential N×50 ms; throughput pool/50 ms; engine CPU 50 ms/pool per user-execution (one event loop)');
    const deps = { services, fake, sequential };
    await seedUsers({ orm: db.orm, cipher: services.cipher, fake }, 100, 0);
    await benchFanOut(deps, 100, 11, 100, 2);
    await seedUsers({ orm: db.orm, cipher: services.cipher, fake }, 900, 100);
    await benchFanOut(deps, 1000, 7, 100);
  } catch (err) {
    if (!(err instanceof IncompleteFanOutError)) throw err;
    process.stdout.write(`bench fanout: FAILED, ${err.message}\n`);
    process.exitCode = 1;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
  }
  // On a database of its own, after the fan-out: seeding a million movements leaves PostgreSQL checkpointing for
  // a while, which must not land in the fan-out's latency figures.
  await benchSettlement();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
