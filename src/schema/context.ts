import type { Scope } from '../services/scope';

/** What every resolver receives: the request's unit of work and the verified actor (or none). */
export interface GraphQLContext {
  scope: Scope;
  /** Why a presented token was refused; public operations still run, guarded ones answer with it. */
  authError?: Error;
}
