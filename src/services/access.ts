import type { AuditTrail } from '../engine/ports';
import { Role } from '../entities/enums';
import { forbidden } from '../errors/app-error';
import type { SignedInScope } from './scope';

/**
 * The service-level half of every admin check (the resolver's
 * `@Authorized(Role.ADMIN)` is the other): an admin operation reached from
 * anywhere else still refuses a non-admin.
 */
export function assertAdmin(scope: SignedInScope): void {
  if (scope.actor.role !== Role.ADMIN) throw forbidden('This needs an administrator');
}


/**
 * assertAdmin for operations that move money (a broadcast trades for every
 * user): the refusal is audited like the resolver's (`auth.forbidden`), since
 * reaching the service past the resolver's check means a path that should not
 * exist. The refusal stands even when the row cannot be written.
 */
export async function assertAdminAudited(scope: SignedInScope, audit: AuditTrail, operation: string): Promise<void> {
  if (scope.actor.role === Role.ADMIN) return;
  const em = scope.em.fork();
  audit.record(em, {
    action: 'auth.forbidden',
    userId: scope.actor.id,
    actorId: scope.actor.id,
    detail: `${operation}: needs ADMIN (refused by the service)`,
    ip: scope.ip,
  });
  await em.flush().catch(() => undefined);
  throw forbidden('This needs an administrator');
}
