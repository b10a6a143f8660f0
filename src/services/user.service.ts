import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { isUuid } from './ids';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import type { Logger } from 'pino';
import { Session } from '../entities/session.entity';
import { Role, SubscriptionPlan, UserStatus } from '../entities/enums';
import { User } from '../entities/user.entity';
import { badInput, conflict, notFound } from '../errors/app-error';
import type { AuditService } from './audit.service';
import type { AuthService } from './auth.service';
import { canonicalEmailText, normalizeEmail } from './email';
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
  constructor(private readonly deps: { audit: AuditService; auth: AuthService; logger: Logger; onChanged?: (userId: string) => void }) {}

  async me(scope: SignedInScope): Promise<User> {
    return scope.em.findOneOrFail(User, { id: scope.actor.id });
  }

  async updateMe(scope: SignedInScope, input: { email?: string | null }): Promise<User> {
    const user = await this.me(scope);
    if (input.email === undefined || input.email === null) return user;
    const email = normalizeEmail(input.email);
    if (email === user.email) return user;
    const previous = user.email;
    user.email = email;
    this.deps.audit.record(scope.em, {
      action: 'user.update_email',
      userId: user.id,
      actorId: user.id,
      detail: `email changed from ${previous}`,
      ip: scope.ip,
    });
    try {
      await scope.em.flush();
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw conflict('An account with this email already exists');
      throw err;
    }
    return user;
  }

  // ---- admin ----

  async list(scope: SignedInScope, filter: UserFilter) {
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

  async get(scope: SignedInScope, id: string): Promise<User | null> {
    if (!isUuid(id)) return null;
    return scope.em.findOne(User, { id });
  }

  async setStatus(scope: SignedInScope, id: string, status: UserStatus, reason: string | null): Promise<User> {
    // Stored as text and shown in the audit log: bounded like unlockRisk's reason.
    if (reason && reason.length > 500) throw badInput('reason must be at most 500 characters', 'reason');
    const user = await this.get(scope, id);
    if (!user) throw notFound('User');
    if (user.id === scope.actor.id && status !== UserStatus.ACTIVE) throw badInput('You cannot suspend or ban yourself', 'id');
    const ending = status === UserStatus.SUSPENDED || status === UserStatus.BANNED;
    await scope.em.transactional(async (tx) => {
      const row = tx.merge(user);
      row.status = status;
      row.statusReason = reason?.trim() || null;
      if (status === UserStatus.ACTIVE && !row.emailVerifiedAt) row.emailVerifiedAt = new Date();
      // An admin's activation stands in for the verification: the FREE trial starts, once per account.
      if (status === UserStatus.ACTIVE && row.subscription === SubscriptionPlan.FREE && !row.trialEndsAt) row.trialEndsAt = new Date(Date.now() + TRIAL_DAYS * 86_400_000);
      if (ending) {
        // Bumping the token version ends every access token at once; revoking sessions ends refresh.
        row.tokenVersion += 1;
        await tx.nativeUpdate(Session, { user: row.id, revokedAt: null }, { revokedAt: new Date() }, WITHOUT_OWNER);
      }
      this.deps.audit.record(tx, {
        action: `admin.${status === UserStatus.ACTIVE ? 'activate' : status === UserStatus.BANNED ? 'ban' : 'suspend'}_user`,
        userId: row.id,
        actorId: scope.actor.id,
        detail: reason?.trim() || null,
        ip: scope.ip,
      });
    });
    if (ending) this.deps.auth.announceRevoked({ userId: user.id });
    this.deps.onChanged?.(user.id);
    return user;
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
