import { unauthenticated } from '../errors/app-error';
import type { GraphQLContext } from '../schema/context';
import type { SignedInScope } from '../services/scope';

/** The scope of a resolver behind `@Authorized`: narrows the type, and refuses if that guard was forgotten. */
export function signedIn(ctx: GraphQLContext): SignedInScope {
  if (!ctx.scope.actor) throw unauthenticated();
  return ctx.scope as SignedInScope;
}
