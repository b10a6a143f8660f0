import type { EntityManager } from '@mikro-orm/postgresql';
import type { Role } from '../entities/enums';

/** Who is acting: taken from a verified access token, never from arguments. */
export interface Actor {
  id: string;
  role: Role;
  /** The refresh-token family this access token belongs to. */
  sessionId: string;
  /** When the access token stops working on its own; sockets close then. */
  expiresAt: Date;
}

/** One unit of work: the request's forked EntityManager (owner filter bound to the actor), the actor and the caller's IP. */
export interface Scope {
  em: EntityManager;
  actor: Actor | null;
  ip: string | null;
}

export interface SignedInScope extends Scope {
  actor: Actor;
}
