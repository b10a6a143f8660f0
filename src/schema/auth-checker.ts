import type { Logger } from 'pino';
import type { AuthChecker } from 'type-graphql';
import { forbidden, unauthenticated } from '../errors/app-error';
import type { AuditService } from '../services/audit.service';
import type { GraphQLContext } from './context';

/** Fields already audited as denied in one request: fifteen aliases of one admin field make one row. */
const deniedInRequest = new WeakMap<GraphQLContext, Set<string>>();

/**
 * Deny by default: `@Authorized()` needs a signed-in user, `@Authorized(Role.ADMIN)`
 * an admin. A signed-in user refused an admin operation is audited (who,
 * which operation, from where: ASVS 4.0.3 7.2.2, 5.0 16.3.2); the refusal
 * stands even when the audit row cannot be written.
 */
export function createAuthChecker(deps: { audit?: AuditService; logger?: Logger } = {}): AuthChecker<GraphQLContext> {
  return async ({ context, info }, roles) => {
    const actor = context.scope.actor;
    if (!actor) throw context.authError ?? unauthenticated();
    if (roles.length > 0 && !roles.includes(actor.role)) {
      const operation = `${info.operation.operation} ${info.fieldName}${info.operation.name ? ` (operation ${info.operation.name.value})` : ''}`;
      const seen = deniedInRequest.get(context) ?? new Set<string>();
      deniedInRequest.set(context, seen);
      if (deps.audit && !seen.has(operation)) {
        seen.add(operation);
        try {
          const em = context.scope.em.fork();
          deps.audit.record(em, { action: 'auth.forbidden', userId: actor.id, actorId: actor.id, detail: `${operation}: needs ${roles.join(' or ')}`, ip: context.scope.ip });
          await em.flush();
        } catch (err) {
          deps.logger?.error({ err, userId: actor.id, operation }, 'denied operation could not be audited');
        }
      }
      throw forbidden('This needs an administrator');
    }
    return true;
  };
}
