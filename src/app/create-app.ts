import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import { openDatabase, type Database } from '../db/database';
import { createEventBus } from '../realtime/event-bus';
import { buildAppSchema } from '../schema/build-schema';
import type { GraphQLContext } from '../schema/context';
import { createErrorFormatter } from '../schema/format-error';
import { documentLimits, inputChecksPlugin } from './graphql-input-checks';
import { jsonErrorHandler } from './http-errors';
import { apolloArmor, hideSuggestions } from './graphql-limits';
import { httpContext } from './request-context';
import { closeServices, createServices, type Services } from './services';
import { AppMetrics } from './metrics';
import { attachSocketServer } from './socket-server';
import { accountPages } from './account-pages';
import type { Engine } from '../engine/engine';
import type { Clock } from '../engine/ports';
import { LEADER_FLAG, registerAppJobs } from '../jobs/app-jobs';
import { JobScheduler } from '../jobs/job-scheduler';
import { clientAddress, compileTrustProxy, originPolicy } from './client-address';
import { metricsGuard, withRequestId } from './http-middleware';
import { defaultRedisPrefix } from '../realtime/redis-prefix';

export interface App {
  url: string;
  port: number;
  services: Services;
  engine: Engine;
  httpServer: Server;
  stop(): Promise<void>;
}

/** Builds and starts one node: database (migrated), bus, services, GraphQL over HTTP and graphql-ws on one port. */
export interface AppOptions {
  /** Business time (UTC days and weeks) for the engine's risk periods; tests move it. */
  clock?: Clock;
}

export async function createApp(config: AppConfig, logger: Logger, options: AppOptions = {}): Promise<App> {
  const db: Database = await openDatabase(config, logger);
  const redisPrefix = config.REDIS_PREFIX ?? defaultRedisPrefix(db.deploymentId);
  if (config.REDIS_URL) logger.info({ redisPrefix }, 'Redis keys and channels of this deployment carry this prefix');
  const bus = createEventBus({ redisUrl: config.REDIS_URL, prefix: redisPrefix, logger });
  const metrics = new AppMetrics();
  let engine: Engine | null = null;
  // Leader-only jobs (the reconciliation) are fetched only while this node leads the strategy.
  const jobs = new JobScheduler({ connectionString: db.url, logger, forbiddenFlags: () => (engine?.leading ? null : [LEADER_FLAG]) });
  const services = createServices({ config, logger, orm: db.orm, bus, jobs, databaseUrl: db.url, clock: options.clock, redisPrefix, metrics });
  engine = services.engine;
  const stopping: Array<() => Promise<void>> = [];
  try {
    registerAppJobs(jobs, {
      keyReverification: services.keyReverification,
      engine: services.engine,
      risk: services.engine.risk,
      reconcileEveryMinutes: Math.max(1, Math.round(config.ENGINE_RECONCILE_MS / 60_000)),
      billing: services.billing,
    });
    // Also queues the settlement's and the invoices' runs at start: days and months missed while every node was down
    // (beyond the scheduler's backfill too) are settled and invoiced now, not at the next 00:05 or the next 1st.
    await jobs.start();
    stopping.push(() => jobs.stop());
    if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD) {
      await services.users.ensureAdmin({ em: db.orm.em.fork(), actor: null, ip: null }, config.ADMIN_EMAIL, config.ADMIN_PASSWORD);
    }
    await services.engine.start();
    stopping.push(() => services.engine.stop());
    const schema = buildAppSchema({ services, pubSub: bus.pubSub });
    const formatError = createErrorFormatter(logger.child({ module: 'graphql' }));

    const app = express();
    app.disable('x-powered-by');
    const httpServer = createServer(app);
    const trustProxy = compileTrustProxy(config.TRUST_PROXY);
    const originAllowed = originPolicy(config.CORS_ORIGINS, config.production);
    const sockets = attachSocketServer(httpServer, schema, services, formatError, { trustProxy, originAllowed });
    const armor = apolloArmor();
    const apollo = new ApolloServer<GraphQLContext>({
      schema,
      ...armor,
      plugins: [
        inputChecksPlugin,
        ...armor.plugins,
        ApolloServerPluginDrainHttpServer({ httpServer }),
        { serverWillStart: async () => ({ drainServer: () => sockets.dispose() }) },
      ],
      validationRules: armor.validationRules,
      introspection: !config.production,
      hideSchemaDetailsFromClientErrors: config.production,
      includeStacktraceInErrorResponses: false,
      stopOnTerminationSignals: false,
      formatError: (formatted, error) => {
        const out = formatError(formatted, error);
        return config.production ? { ...out, message: hideSuggestions(out.message) } : out;
      },
    });
    await apollo.start();
    stopping.push(() => apollo.stop());

    metrics.observe({
      traffic: services.binance.traffic,
      leading: () => services.engine.leading,
      lastPriceAt: () => services.prices.updatedAt(config.STRATEGY_SYMBOL),
      sockets: () => sockets.connections(),
      bus,
    });
    app.get('/metrics', metricsGuard(config, logger), async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'ok' });
    });
    app.get('/readyz', async (_req, res) => {
      // Bounded: a dependency that hangs makes the node unready, not the probe stuck.
      const [database, busOk] = await Promise.all([within(2000, db.orm.isConnected()), within(2000, bus.ping())]);
      res.status(database && busOk ? 200 : 503).json({ status: database && busOk ? 'ready' : 'unavailable', database, bus: busOk });
    });
    app.use(accountPages({ ...services, clientIp: (req) => clientAddress(req, trustProxy), logger: logger.child({ module: 'account-pages' }) }));
    app.use(
      '/graphql',
      cors({
        origin: (origin, callback) => callback(null, origin === undefined || originAllowed(origin)),
        methods: ['GET', 'POST'],
        allowedHeaders: ['content-type', 'authorization', 'apollo-require-preflight', 'x-apollo-operation-name'],
        exposedHeaders: ['x-request-id'],
        maxAge: 600,
      }),
      express.json({ limit: '100kb' }),
      documentLimits,
      // After the body parser: its stream callbacks would lose the request's log context.
      withRequestId(logger.child({ module: 'http' })),
      expressMiddleware(apollo, {
        context: ({ req }) => httpContext(services, req.headers.authorization, clientAddress(req, trustProxy)),
      }),
    );
    app.use(jsonErrorHandler(logger.child({ module: 'http' })));

    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.PORT, config.HOST, () => resolve());
    });
    const port = (httpServer.address() as AddressInfo).port;
    const url = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${port}/graphql`;

    let stopped: Promise<void> | null = null;
    return {
      url,
      port,
      services,
      engine: services.engine,
      httpServer,
      stop() {
        // Stop accepting, drain HTTP and sockets (Apollo's drain plugin), then close the engine, ORM and bus.
        stopped ??= (async () => {
          for (const stop of stopping.reverse()) await stop().catch((err) => logger.error({ err }, 'error while stopping'));
          await closeServices(services);
          await bus.close();
          await db.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const stop of stopping.reverse()) await stop().catch(() => undefined);
    await closeServices(services);
    await bus.close();
    await db.close();
    throw err;
  }
}

/** The promise's value, or false when it rejects or takes longer than `ms`. */
function within(ms: number, promise: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
