import { LockMode } from '@mikro-orm/core';
import { isUuid } from './ids';
import type { Logger } from 'pino';
import { Role, SubscriptionPlan, UserStatus } from '../entities/enums';
import { User } from '../entities/user.entity';
import { badInput, conflict, notFound } from '../errors/app-error';
import { assertAdmin } from './access';
import type { AuditService } from './audit.service';
import type { AuthService } from './auth.service';
import { canonicalEmailText, normalizeEmail } from './email';
import type { EmailChangeService } from './email-change.service';
import type { NotificationService } from './notifications/notification.service';
import { endSessions } from './session-revocation';
import { afterCursor, decodeCursor, pageSize, toPage } from './pagination';
import { hashPassword, verifyPassword } from './password';
import type { Scope, SignedInScope } from './scope';
import { TRIAL_DAYS } from '../domain/plans';

export interface UserFilter {
  status?: UserStatus | null;
  plan?: SubscriptionPlan | null;
  search?: string | null;
  first?: number | null;
  after?: string | null;
}

/** The account itself (the signed-in user's own) and the admin's user operations. */
export class UserService {
  constructor(
    private readonly deps: {
      audit: AuditService;
      auth: Pick<AuthService, 'announceRevoked'>;
      emailChange: Pick<EmailChangeService, 'request'>;
      notifier: Pick<NotificationService, 'accountSuspended' | 'accountBanned'>;
      logger: Logger;
      onChanged?: (userId: string) => void;
    },
  ) {}

  async me(scope: SignedInScope): Promise<User> {
    return scope.em.findOneOrFail(User, { id: scope.actor.id });
  }

  /** A new email is not applied here: it is confirmed from its own inbox first (EmailChangeService). */
  async updateMe(scope: SignedInScope, input: { email?: string | null; currentPassword?: string | null }): Promise<User> {
    const user = await this.me(scope);
    if (input.email === undefined || input.email === null) return user;
    const email = normalizeEmail(input.email);
    if (email === user.email) return user;
    return this.deps.emailChange.request(scope, email, input.currentPassword);
  }

  // ---- admin ----

  async list(scope: SignedInScope, filter: UserFilter) {
    assertAdmin(scope);
    const size = pageSize(filter.first, 50);
    const cursor = decodeCursor(filter.after);
    const where: Record<string, unknown> = {};
    if (filter.status) where.status = filter.status;
    if (filter.plan) where.subscription = filter.plan;
    const search = filter.search ? canonicalEmailText(filter.search, 'search') : '';
    if (search) {
      if (search.length > 320) throw badInput('search is too long', 'search');
      where.email = { $ilike: `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
    }
    const [rows, total] = await Promise.all([
      scope.em.find(User, { ...where, ...afterCursor(cursor, 'createdAt') }, {
        orderBy: { createdAt: 'desc', id: 'desc' },
        limit: size + 1,
      }),
      scope.em.fork().count(User, where),
    ]);
    return { ...toPage(rows, size, (u) => u.createdAt), total };
  }

  /** Admin: one user; null for an unknown id and for a malformed one alike. */
  async get(scope: SignedInScope, id: string): Promise<User | null> {
    assertAdmin(scope);
    if (!isUuid(id)) return null;
    return scope.em.findOne(User, { id });
  }

  /**
   * Admin: suspend, ban or activate. Setting the status a user already has
   * changes nothing (no audit row, no mail). Suspending or banning ends every
   * session and socket at once. The last active admin cannot be taken out:
   * the active admins' rows are locked first, so two admins suspending each
   * other at the same moment cannot both succeed.
   */
  async setStatus(scope: SignedInScope, id: string, status: UserStatus, reason: string | null): Promise<User> {
    assertAdmin(scope);
    // Stored as text and shown in the audit log: bounded like unlockRisk's reason.
    if (reason && reason.length > 500) throw badInput('reason must be at most 500 characters', 'reason');
    if (!isUuid(id)) throw notFound('User');
    if (id === scope.actor.id && status !== UserStatus.ACTIVE) throw badInput('You cannot suspend or ban yourself', 'id');
    const ending = status === UserStatus.SUSPENDED || status === UserStatus.BANNED;
    const now = new Date();
    const outcome = await scope.em.transactional(async (tx) => {
      // Always in the same order (admins by id, then the target), so concurrent status changes cannot deadlock.
      const activeAdmins = ending
        ? await tx.find(User, { role: Role.ADMIN, status: UserStatus.ACTIVE }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } })
        : [];
      const row = await tx.findOne(User, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!row) throw notFound('User');
      if (row.status === status) return { user: row, changed: false };
      if (ending && row.role === Role.ADMIN && !activeAdmins.some((a) => a.id !== row.id)) {
        throw conflict('This is the last active administrator; activate or appoint another one first');
      }
      row.status = status;
      row.statusReason = reason?.trim() || null;
      if (status === UserStatus.ACTIVE && !row.emailVerifiedAt) row.emailVerifiedAt = now;
      // An admin's activation stands in for the verification: the FREE trial starts, once per account.
      if (status === UserStatus.ACTIVE && row.subscription === SubscriptionPlan.FREE && !row.trialEndsAt) row.trialEndsAt = new Date(now.getTime() + TRIAL_DAYS * 86_400_000);
      if (ending) {
        await tx.flush();
        // Bumping the token version ends every access token at once; revoking sessions ends refresh.
        await endSessions(tx, row.id, now, { bumpTokenVersion: true });
      }
      this.deps.audit.record(tx, {
        action: `admin.${status === UserStatus.ACTIVE ? 'activate' : status === UserStatus.BANNED ? 'ban' : 'suspend'}_user`,
        userId: row.id,
        actorId: scope.actor.id,
        detail: reason?.trim() || null,
        ip: scope.ip,
      });
      return { user: row, changed: true };
    });
    if (!outcome.changed) return outcome.user;
    if (ending) this.deps.auth.announceRevoked({ userId: id });
    this.deps.onChanged?.(id);
    if (status === UserStatus.SUSPENDED) await this.deps.notifier.accountSuspended(id);
    if (status === UserStatus.BANNED) await this.deps.notifier.accountBanned(id);
    return outcome.user;
  }

  /** ADMIN_EMAIL / ADMIN_PASSWORD: make sure that account exists, is ACTIVE and is an admin. */
  async ensureAdmin(scope: Scope, rawEmail: string, password: string): Promise<void> {
    const email = normalizeEmail(rawEmail);
    const existing = await scope.em.findOne(User, { email }, { populate: ['passwordHash'] });
    if (!existing) {
      scope.em.create(User, {
        email,
        passwordHash: await hashPassword(password),
        role: Role.ADMIN,
        status: UserStatus.ACTIVE,
        emailVerifiedAt: new Date(),
        subscription: SubscriptionPlan.PRO,
      });
      this.deps.audit.record(scope.em, { action: 'admin.bootstrap', detail: `admin ${email} created from ADMIN_EMAIL` });
    } else {
      // The password is the admin's own from the first start on (changed through the API, never by a restart):
      // otherwise anyone who can restart a node with an old ADMIN_PASSWORD gets the account back.
      const changed = existing.role !== Role.ADMIN || existing.status !== UserStatus.ACTIVE;
      existing.role = Role.ADMIN;
      existing.status = UserStatus.ACTIVE;
      if (changed) this.deps.audit.record(scope.em, { action: 'admin.bootstrap', userId: existing.id, detail: 'role/status restored' });
      if (!(await verifyPassword(password, existing.passwordHash))) {
        this.deps.logger.info({ email }, 'ADMIN_PASSWORD differs from the admin\'s password: left unchanged (it only sets the password of a new admin)');
      }
    }
    await scope.em.flush();
  }
}
