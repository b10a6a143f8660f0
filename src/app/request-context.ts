import { OWNER_FILTER } from '../entities/owner-filter';
import { AppError, unauthenticated } from '../errors/app-error';
import type { GraphQLContext } from '../schema/context';
import type { Actor } from '../services/scope';
import type { Services } from './services';

export function bearerToken(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match ? match[1] : null;
}

/** One forked EntityManager per operation, its owner filter bound to the actor. */
export function contextFor(services: Services, actor: Actor | null, ip: string | null, authError?: Error): GraphQLContext {
  const em = services.orm.em.fork();
  if (actor) em.setFilterParams(OWNER_FILTER, { userId: actor.id });
  return { scope: { em, actor, ip }, authError };
}

/** HTTP: a bad token does not fail the request outright, so `login` and `refreshSession` still work with a stale header. */
export async function httpContext(services: Services, authorization: unknown, ip: string | null): Promise<GraphQLContext> {
  if (authorization === undefined) return contextFor(services, null, ip);
  const token = bearerToken(authorization);
  if (!token) return contextFor(services, null, ip, unauthenticated('Authorization must be "Bearer <accessToken>"'));
  try {
    const actor = await services.auth.authenticate(services.orm.em.fork(), token);
    return contextFor(services, actor, ip);
  } catch (err) {
    if (err instanceof AppError) return contextFor(services, null, ip, err);
    throw err;
  }
}
