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
