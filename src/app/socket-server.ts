import type { Server } from 'node:http';
import { GraphQLError, getOperationAST, validate, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error';
import { Topic } from '../realtime/topics';
import type { SessionRevokedEvent } from '../services/auth.service';
import type { Actor } from '../services/scope';
import { checkStorableText, parseLimited } from './graphql-input-checks';
import { socketValidationRules } from './graphql-limits';
import { bearerToken, contextFor } from './request-context';
import type { Services } from './services';

const MAX_SUBSCRIPTIONS_PER_SOCKET = 50;

type SocketExtra = {
  socket: WebSocket;
  request: { socket: { remoteAddress?: string } };
  actor?: Actor;
  expiryTimer?: NodeJS.Timeout;
};

/**
 * graphql-ws on the HTTP server's port and path. The connection is
 * authenticated once at connection_init (4401 without a valid token, 4403 for
 * an account that may not connect), closed when its token expires or its
 * session is revoked anywhere in the cluster, and every operation gets the
 * same validation limits as HTTP.
 */
export function attachSocketServer(
  httpServer: Server,
  schema: GraphQLSchema,
  services: Services,
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
) {
  const logger: Logger = services.logger.child({ module: 'ws' });
  const rules = socketValidationRules(services.config.production);
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 64 * 1024 });
  const byUser = new Map<string, Set<SocketExtra>>();

  const forget = (extra: SocketExtra) => {
    clearTimeout(extra.expiryTimer);
    if (extra.actor) byUser.get(extra.actor.id)?.delete(extra);
  };

  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), e));

  const cleanup = useServer<Record<string, unknown> | undefined, SocketExtra>(
    {
      schema,
      onConnect: async (ctx) => {
        const token = bearerToken(ctx.connectionParams?.authorization);
        if (!token) {
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized');
          return false;
        }
        try {
          const actor = await services.auth.authenticate(services.orm.em.fork(), token);
          ctx.extra.actor = actor;
          if (!byUser.has(actor.id)) byUser.set(actor.id, new Set());
          byUser.get(actor.id)!.add(ctx.extra);
          const ttl = Math.min(actor.expiresAt.getTime() - Date.now(), 2 ** 31 - 1);
          ctx.extra.expiryTimer = setTimeout(() => ctx.extra.socket.close(CloseCode.Unauthorized, 'Token expired'), ttl);
          ctx.extra.expiryTimer.unref();
          return true;
        } catch (err) {
          if (!(err instanceof AppError)) logger.error({ err }, 'socket authentication failed');
          ctx.extra.socket.close(CloseCode.Unauthorized, 'Unauthorized');
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
          contextValue: contextFor(services, actor, ctx.extra.request.socket.remoteAddress ?? null),
        };
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: format(result.errors) } : undefined,
    },
    wss,
  );

  // Logout, password change or suspension on any node ends this node's sockets too.
  const revocations = services.bus.subscribe<SessionRevokedEvent>(Topic.SESSION_REVOKED);
  void (async () => {
    for await (const event of revocations) {
      for (const extra of byUser.get(event.userId) ?? []) {
        const ended = event.sessionId ? extra.actor?.sessionId === event.sessionId : extra.actor?.sessionId !== event.keepSessionId;
        if (ended) {
          extra.socket.close(CloseCode.Forbidden, 'Session revoked');
          forget(extra);
        }
      }
    }
  })().catch((err) => logger.error({ err }, 'session revocation listener stopped'));

  return {
    connections: () => [...byUser.values()].reduce((n, set) => n + set.size, 0),
    async dispose() {
      await revocations.return?.();
      for (const set of byUser.values()) for (const extra of set) clearTimeout(extra.expiryTimer);
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
