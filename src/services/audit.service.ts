import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from '../entities/audit-log.entity';
import { User } from '../entities/user.entity';
import { notFound } from '../errors/app-error';
import { assertAdmin } from './access';
import { isUuid } from './ids';
import type { SignedInScope } from './scope';

export interface AuditEntryInput {
  action: string;
  userId?: string | null;
  actorId?: string | null;
  /** Plain words for a human; never a secret, token or password. */
  detail?: string | null;
  ip?: string | null;
}

/** What `me.auditLog` shows of an entry: the user's own security-relevant history. */
export interface OwnAuditEntry {
  id: string;
  userId: string | null;
  actorId: string | null;
  action: string;
  detail: string | null;
  ip: string | null;
  createdAt: Date;
}

/** Families of actions that are the user's own security history: sign-ins, password, address, plan, keys, risk. */
const OWN_PREFIXES = ['auth.', 'user.', 'exchange.', 'risk.'];
/** Too frequent to be history (every token refresh). */
const OWN_EXCLUDED = ['auth.refresh'];
/** Admin actions the user is told about, without the admin's id or their internal reason. */
const ADMIN_ACTIONS_SHOWN = ['admin.suspend_user', 'admin.activate_user', 'admin.ban_user', 'admin.unlock_risk'];

/**
 * Appends to audit_logs inside the caller's unit of work, so the entry commits
 * with the action. Rows are never updated or deleted: the application has no
 * such path, and a trigger in the database refuses UPDATE, DELETE and TRUNCATE.
 */
export class AuditService {
  record(em: EntityManager, entry: AuditEntryInput): AuditLog {
    const log = em.create(AuditLog, {
      action: entry.action,
      userId: entry.userId ?? null,
      actorId: entry.actorId ?? null,
      detail: entry.detail ?? null,
      ip: entry.ip ?? null,
      createdAt: new Date(),
    });
    em.persist(log);
    return log;
  }

  /** Admin: everything, or one user's; an unknown and a malformed user id both answer NOT_FOUND. */
  async list(scope: SignedInScope, filter: { userId?: string | null; first: number }): Promise<AuditLog[]> {
    assertAdmin(scope);
    if (filter.userId) {
      if (!isUuid(filter.userId) || !(await scope.em.findOne(User, { id: filter.userId }))) throw notFound('User');
    }
    return scope.em.find(AuditLog, filter.userId ? { userId: filter.userId } : {}, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: filter.first,
    });
  }

  /** me.auditLog: the signed-in user's own entries, newest first, admin-internal details left out. */
  async listOwn(scope: SignedInScope, first: number): Promise<OwnAuditEntry[]> {
    const userId = scope.actor.id;
    const rows = await scope.em.find(
      AuditLog,
      {
        userId,
        $and: [
          { $or: [...OWN_PREFIXES.map((p) => ({ action: { $like: `${p}%` } })), { action: { $in: ADMIN_ACTIONS_SHOWN } }] },
          { action: { $nin: OWN_EXCLUDED } },
        ],
      },
      { orderBy: { createdAt: 'desc', id: 'desc' }, limit: first },
    );
    return rows.map((row) => {
      const byAdmin = row.action.startsWith('admin.');
      return {
        id: row.id,
        userId: row.userId,
        // Who else acted (an admin, the system) is not the user's to know; the user's own id is.
        actorId: row.actorId === userId ? userId : null,
        action: row.action,
        detail: byAdmin ? null : row.detail,
        ip: byAdmin ? null : row.ip,
        createdAt: row.createdAt,
      };
    });
  }
}
