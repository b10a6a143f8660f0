import type { EntityManager } from '@mikro-orm/postgresql';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import { Session } from '../entities/session.entity';

/** Told to every node's sockets when sessions end. */
export interface SessionRevokedEvent {
  userId: string;
  /** Only this session ended; absent: every session of the user ended. */
  sessionId?: string;
  /** Every session but this one ended (the one that changed the email address). */
  keepSessionId?: string;
}

/**
 * Ends sessions of a user in the caller's transaction. `bumpTokenVersion`
 * also ends every access token already handed out (and, through the
 * session's recorded version, any sign-in racing this one); `keepFamilyId`
 * spares the session that asked for the change.
 */
export async function endSessions(
  em: EntityManager,
  userId: string,
  now: Date,
  options: { bumpTokenVersion: boolean; keepFamilyId?: string | null },
): Promise<void> {
  const where = options.keepFamilyId
    ? { user: userId, revokedAt: null, familyId: { $ne: options.keepFamilyId } }
    : { user: userId, revokedAt: null };
  await em.nativeUpdate(Session, where, { revokedAt: now }, WITHOUT_OWNER);
  if (options.bumpTokenVersion) {
    await em.execute('update users set token_version = token_version + 1, updated_at = ? where id = ?', [now, userId]);
  }
}
