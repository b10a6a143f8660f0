import type { AuthChecker } from 'type-graphql';
import { forbidden, unauthenticated } from '../errors/app-error';
import type { GraphQLContext } from './context';

/** Deny by default: `@Authorized()` needs a signed-in user, `@Authorized(Role.ADMIN)` an admin. */
export const authChecker: AuthChecker<GraphQLContext> = ({ context }, roles) => {
  const actor = context.scope.actor;
  if (!actor) throw context.authError ?? unauthenticated();
  if (roles.length > 0 && !roles.includes(actor.role)) throw forbidden('This needs an administrator');
  return true;
};
