import { Role } from '../../entities/enums';
import { forbidden } from '../../errors/app-error';
import type { SignedInScope } from '../scope';

/** The service's own check behind the resolver's @Authorized(ADMIN): deny by default, whoever calls. */
export function assertAdmin(scope: SignedInScope): void {
  if (scope.actor.role !== Role.ADMIN) throw forbidden('This needs an administrator');
}
