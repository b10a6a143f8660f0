import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import {
  execute,
  GraphQLError,
  getOperationAST,
  subscribe,
  validate,
  type ExecutionArgs,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { logContext } from '../config/log-context';
import { AppError } from '../errors/app-error';
import { Topic } from '../realtime/topics';
import type { SessionRevokedEvent } from '../services/session-revocation';
import type { Actor } from '../services/scope';
import { clientAddress, type TrustProxy } from './client-address';
import { checkStorableText, parseLimited } from './graphql-input-checks';
import { hideSuggestions, socketValidationRules } from './graphql-limits';
import { bearerToken, contextFor } from './request-context';
import type { Services } from './services';
import { SocketSeats } from './socket-seats';

const MAX_SUBSCRIPTIONS_PER_SOCKET = 50;
/** Open sockets one user may hold, on one node and across the cluster: a few tabs and devices, not a flood. */
export const MAX_SOCKETS_PER_USER = 10;
/** Handshakes per client address per minute (each one may cost a token check against the database). */
export const MAX_HANDSHAKES_PER_MINUTE = 60;

type SocketExtra = {
  socket: WebSocket;
  request: IncomingMessage;
  actor?: Actor;
  token?: string;
  ip?: string | null;
  connId?: string;
  expiryTimer?: NodeJS.Timeout;
};

export interface SocketServerOptions {
  trustProxy: TrustProxy;
  /** Browser origins allowed to open a socket (CORS_ORIGINS); a client sending no Origin is not a browser page. */
  originAllowed: (origin: string) => boolean;
}

/**
 * graphql-ws on the HTTP server's port and path. The handshake is refused for
 * a browser origin not in CORS_ORIGINS and past a per-address rate; the
 * connection is authenticated once at connection_init (4401 without a valid
 * token, 4403 for an account that may not connect, 4429 past the per-user cap),
 * closed when its token expires or its session is revoked anywhere in the
 * cluster (and re-checked when Redis comes back, in case a revocation was
 * lost), and every operation gets the same validation limits as HTTP.
 */
export function attachSocketServer(
  httpServer: Server,
  schema: GraphQLSchema,
  services: Services,
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
  options: SocketServerOptions,
) {
  const logger: Logger = services.logger.child({ module: 'ws' });
  const production = services.config.production;
  const rules = socketValidationRules(production);
  const handshakes = services.rateLimits('ws', {
    handshake: { points: MAX_HANDSHAKES_PER_MINUTE, windowSeconds: 60, message: 'Too many connection attempts' },
  });
  const wss = new WebSocketServer({
    server: httpServer,
    path: '/graphql',
    maxPayload: 64 * 1024,
    verifyClient: ({ origin, req }, accept) => {
      if (origin && !options.originAllowed(origin)) {
        logger.warn({ origin }, 'socket refused: origin not allowed');
        accept(false, 403, 'Origin not allowed');
        return;
      }
      const ip = clientAddress(req, options.trustProxy) ?? 'unknown';
      handshakes.consume('handshake', ip).then(
        () => accept(true),
        (err) => {
          if (!(err instanceof AppError)) logger.error({ err }, 'socket rate limit failed');
          accept(false, 429, 'Too many connection attempts');
        },
      );
    },
  });
  const byUser = new Map<string, Set<SocketExtra>>();
  const seats = new SocketSeats(services.redis, MAX_SOCKETS_PER_USER, logger);

  const forget = (extra: SocketExtra) => {
    clearTimeout(extra.expiryTimer);
    if (extra.actor) byUser.get(extra.actor.id)?.delete(extra);
    if (extra.actor && extra.connId) seats.release(extra.actor.id, extra.connId);
  };

  // Suggestions ("Did you mean …") name fields a production schema does not disclose, as on HTTP.
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((e) => {
      const out = formatError(e.toJSON(), e);
      return production ? { ...out, message: hideSuggestions(out.message) } : out;
    });

  // Each operation runs with its own request id in every log line it writes.
  const inOperation = (run: (args: ExecutionArgs) => ReturnType<typeof execute> | ReturnType<typeof subscribe>) => (args: ExecutionArgs) =>
    logContext.run({ reqId: randomUUID(), connId: (args.contextValue as { connId?: string } | undefined)?.connId }, () => run(args));

  const cleanup = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema,
      execute: inOperation(execute) as never,
      subscribe: inOperation(subscribe) as never,
      onConnect: async (ctx) => {
        const extra = ctx.extra;
        extra.connId = randomUUID();
        extra.ip = clientAddress(extra.request, options.trustProxy);
        const token = bearerToken(ctx.connectionParams?.authorization);
        if (!token) {
          extra.socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return false;
        }
        try {
          const actor = await services.auth.authenticate(services.orm.em.fork(), token);
          const open = byUser.get(actor.id) ?? new Set<SocketExtra>();
          // This node's count first (it always holds), then the cluster's (Redis; let through when Redis is away).
          if (open.size >= MAX_SOCKETS_PER_USER || !(await seats.take(actor.id, extra.connId))) {
            logger.warn({ userId: actor.id, connId: extra.connId, open: open.size }, 'socket refused: per-user cap reached');
            extra.socket.close(CloseCode.TooManyInitialisationRequests, 'Too many open connections for this user');
            return false;
          }
          if (extra.socket.readyState !== extra.socket.OPEN) {
            // Gone while its seat was being taken: nothing will close it again to give the seat back.
            seats.release(actor.id, extra.connId);
            return false;
          }
          extra.actor = actor;
          extra.token = token;
          open.add(extra);
          byUser.set(actor.id, open);
          const ttl = Math.min(actor.expiresAt.getTime() - Date.now(), 2 ** 31 - 1);
          extra.expiryTimer = setTimeout(() => extra.socket.close(CloseCode.Unauthorized, 'Token expired'), ttl);
          extra.expiryTimer.unref();
          return true;
        } catch (err) {
          if (!(err instanceof AppError)) logger.error({ err, connId: extra.connId }, 'socket authentication failed');
          extra.socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return false;
        }
      },
      onClose: (ctx) => forget(ctx.extra),
      onSubscribe: (ctx, _id, payload) => {
        if (Object.keys(ctx.subscriptions).length >= MAX_SUBSCRIPTIONS_PER_SOCKET) {
          return [new GraphQLError('Too many subscriptions on this connection', { extensions: { code: 'RATE_LIMITED' } })];
        }
        let document;
        try {
          document = parseLimited(payload.query);
          checkStorableText(document, payload.variables);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Invalid query')];
        }
        const errors = validate(schema, document, rules);
        if (errors.length > 0) return errors;
        if (!getOperationAST(document, payload.operationName)) return [new GraphQLError('Unknown operation')];
        const actor = ctx.extra.actor ?? null;
        return {
          schema,
          document,
          variableValues: payload.variables,
          operationName: payload.operationName,
          contextValue: { ...contextFor(services, actor, ctx.extra.ip ?? null), connId: ctx.extra.connId },
        };
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors) } : undefined,
    },
    wss,
  );

  const close = (extra: SocketExtra) => {
    extra.socket.close(CloseCode.Forbidden, 'Session revoked');
    forget(extra);
  };

  // Logout, password change or suspension on any node ends this node's sockets too.
  const revocations = services.bus.subscribe<SessionRevokedEvent>(Topic.SESSION_REVOKED);
  void (async () => {
    for await (const event of revocations) {
      for (const extra of byUser.get(event.userId) ?? []) {
        const ended = event.sessionId ? extra.actor?.sessionId === event.sessionId : extra.actor?.sessionId !== event.keepSessionId;
        if (ended) close(extra);
      }
    }
  })().catch((err) => logger.error({ err }, 'session revocation listener stopped'));

  // A revocation published while Redis was away never arrived: check every open socket's token again.
  services.bus.onReconnect(() => {
    for (const set of byUser.values()) {
      for (const extra of set) {
        if (!extra.token) continue;
        services.auth.authenticate(services.orm.em.fork(), extra.token).catch((err) => {
          if (err instanceof AppError) close(extra);
          else logger.warn({ err: (err as Error).message, connId: extra.connId }, 'socket re-check after reconnect failed');
        });
      }
    }
  });

  return {
    connections: () => [...byUser.values()].reduce((n, set) => n + set.size, 0),
    async dispose() {
      await revocations.return?.();
      for (const set of byUser.values()) for (const extra of set) clearTimeout(extra.expiryTimer);
      seats.close();
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
