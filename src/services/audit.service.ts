import type { EntityManager } from '@mikro-orm/postgresql';
import { AuditLog } from '../entities/audit-log.entity';
import { badInput } from '../errors/app-error';
import { isUuid } from './ids';

export interface AuditEntryInput {
  action: string;
  userId?: string | null;
  actorId?: string | null;
  /** Plain words for a human; never a secret, token or password. */
  detail?: string | null;
  ip?: string | null;
}

/** Appends to audit_logs inside the caller's unit of work, so the entry commits with the action. */
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

  async list(em: EntityManager, filter: { userId?: string | null; first: number }): Promise<AuditLog[]> {
    if (filter.userId && !isUuid(filter.userId)) throw badInput('userId is not a valid user id', 'userId');
    return em.find(AuditLog, filter.userId ? { userId: filter.userId } : {}, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: filter.first,
    });
  }
}
