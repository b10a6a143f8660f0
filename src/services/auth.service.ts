import { randomUUID } from 'node:crypto';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { isEmail } from 'class-validator';
import type { Logger } from 'pino';
import { EmailTokenPurpose, UserStatus } from '../entities/enums';
import { Session } from '../entities/session.entity';
import { User } from '../entities/user.entity';
import { badInput, conflict, forbidden, rateLimited, unauthenticated } from '../errors/app-error';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';
import type { AttemptCounter } from './attempt-counter';
import type { AuditService } from './audit.service';
import type { EmailTokenService } from './email-token.service';
import type { EmailVerificationService } from './email-verification.service';
import type { NotificationService } from './notifications/notification.service';
import { assertPasswordPolicy, burnPasswordCheck, hashPassword, verifyPassword } from './password';
import type { Actor, Scope, SignedInScope } from './scope';
import { TRIAL_DAYS } from '../domain/plans';
import { hashToken, newOpaqueToken, REFRESH_TOKEN_TTL_MS, type TokenService } from './token.service';

const VERIFY_TOKEN_TTL_HOURS = 24;
export { TRIAL_DAYS };

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  user: User;
}

export interface SessionRevokedEvent {
  userId: string;
  /** Only this session ended; absent: every session of the user ended. */
  sessionId?: string;
  /** Every session but this one ended (the one that changed the email address). */
  keepSessionId?: string;
}

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!isEmail(email) || email.length > 320) throw badInput('email must be a valid email address', 'email');
  return email;
}

/** Sign-up, email verification, sign-in, refresh-token rotation and sign-out (DESIGN §4 "Register", "Sessions"). */
export class AuthService {
  constructor(
    private readonly deps: {
      tokens: TokenService;
      notifier: Pick<NotificationService, 'verifyEmail'>;
      emailTokens: EmailTokenService;
      verification: Pick<EmailVerificationService, 'verifySignUp'>;
      audit: AuditService;
      loginAttempts: AttemptCounter;
      bus: EventBus;
      publicUrl: string;
      logger: Logger;
      now?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async register(scope: Scope, input: { email: string; password: string }): Promise<User> {
    const email = normalizeEmail(input.email);
    assertPasswordPolicy(input.password);
    const passwordHash = await hashPassword(input.password);
    const { user, token } = await scope.em.transactional(async (tx) => {
      const created = tx.create(User, { email, passwordHash, status: UserStatus.PENDING, createdAt: this.now(), updatedAt: this.now() });
      const verifyToken = this.issueVerifyToken(tx, created.id);
      this.deps.audit.record(tx, { action: 'user.register', userId: created.id, actorId: created.id, ip: scope.ip });
      try {
        await tx.flush();
      } catch (err) {
        // The unique index decides a race of concurrent sign-ups: exactly one wins.
        if (err instanceof UniqueConstraintViolationException) throw conflict('An account with this email already exists');
        throw err;
      }
      return { user: created, token: verifyToken };
    });
    await this.sendVerification(user, token);
    return user;
  }

  async verifyEmail(scope: Scope, token: string): Promise<AuthResult> {
    return scope.em.transactional(async (tx) => {
      const user = await this.deps.verification.verifySignUp(tx, scope, token);
      return this.startSession(tx, user, scope.ip);
    });
  }

  /** Always answers true, whether or not the email is known, so it cannot be used to probe for accounts. */
  async resendVerification(scope: Scope, rawEmail: string): Promise<boolean> {
    const email = normalizeEmail(rawEmail);
    const sent = await scope.em.transactional(async (tx) => {
      const user = await tx.findOne(User, { email });
      if (!user || user.status !== UserStatus.PENDING) return null;
      await this.deps.emailTokens.revokeOpen(tx, user.id, [EmailTokenPurpose.VERIFY_EMAIL]);
      const token = this.issueVerifyToken(tx, user.id);
      this.deps.audit.record(tx, { action: 'user.resend_verification', userId: user.id, ip: scope.ip });
      return { user, token };
    });
    if (sent) await this.sendVerification(sent.user, sent.token);
    return true;
  }

  async login(scope: Scope, rawEmail: string, password: string): Promise<AuthResult> {
    const email = rawEmail.trim().toLowerCase();
    const lockedMs = await this.deps.loginAttempts.lockedFor(email);
    if (lockedMs > 0) {
      throw rateLimited(`Too many failed sign-ins; try again in ${Math.ceil(lockedMs / 60000)} minutes`, Math.ceil(lockedMs / 1000));
    }
    const user = await scope.em.findOne(User, { email }, { populate: ['passwordHash'] });
    const valid = user ? await verifyPassword(password, user.passwordHash) : await burnPasswordCheck(password);
    if (!user || !valid) {
      const nowLocked = await this.deps.loginAttempts.fail(email);
      this.deps.audit.record(scope.em, {
        action: nowLocked ? 'auth.login_locked' : 'auth.login_failed',
        userId: user?.id ?? null,
        detail: user ? 'wrong password' : 'unknown email',
        ip: scope.ip,
      });
      await scope.em.flush();
      // Unknown email and wrong password answer the same.
      throw unauthenticated('Email or password is incorrect');
    }
    if (user.status === UserStatus.SUSPENDED || user.status === UserStatus.BANNED) {
      throw forbidden(`This account is ${user.status.toLowerCase()}`);
    }
    await this.deps.loginAttempts.reset(email);
    return scope.em.transactional(async (tx) => {
      this.deps.audit.record(tx, { action: 'auth.login', userId: user.id, actorId: user.id, ip: scope.ip });
      return this.startSession(tx, tx.merge(user), scope.ip);
    });
  }

  /** Rotates the refresh token. Presenting one that was already rotated revokes its whole family. */
  async refresh(scope: Scope, refreshToken: string): Promise<AuthResult> {
    const now = this.now();
    const outcome = await scope.em.transactional(async (tx) => {
      const session = await tx.findOne(Session, { tokenHash: hashToken(refreshToken) }, { ...WITHOUT_OWNER, populate: ['user'] });
      if (!session || session.revokedAt || session.expiresAt <= now) return { error: 'invalid' as const };
      const claimed =
        session.rotatedAt === null
          ? await tx.nativeUpdate(Session, { id: session.id, rotatedAt: null }, { rotatedAt: now }, WITHOUT_OWNER)
          : 0;
      if (claimed !== 1) {
        await tx.nativeUpdate(Session, { familyId: session.familyId, revokedAt: null }, { revokedAt: now }, WITHOUT_OWNER);
        this.deps.audit.record(tx, {
          action: 'auth.refresh_reuse',
          userId: session.user.id,
          detail: 'a rotated refresh token was presented again; the session was revoked',
          ip: scope.ip,
        });
        return { error: 'reuse' as const, userId: session.user.id, sessionId: session.familyId };
      }
      const user = session.user;
      if (user.status !== UserStatus.ACTIVE && user.status !== UserStatus.PENDING) return { error: 'invalid' as const };
      // Issued before a password reset, change or suspension (a sign-in racing it): ended with the others.
      if (session.tokenVersion !== user.tokenVersion) return { error: 'invalid' as const };
      this.deps.audit.record(tx, { action: 'auth.refresh', userId: user.id, actorId: user.id, ip: scope.ip });
      return { result: await this.startSession(tx, user, scope.ip, session.familyId) };
    });
    if ('result' in outcome && outcome.result) return outcome.result;
    if ('error' in outcome && outcome.error === 'reuse') this.announceRevoked({ userId: outcome.userId, sessionId: outcome.sessionId });
    throw unauthenticated('This refresh token is no longer valid; sign in again');
  }

  async logout(scope: SignedInScope): Promise<boolean> {
    const { actor } = scope;
    await scope.em.transactional(async (tx) => {
      await tx.nativeUpdate(Session, { familyId: actor.sessionId, revokedAt: null }, { revokedAt: this.now() });
      this.deps.audit.record(tx, { action: 'auth.logout', userId: actor.id, actorId: actor.id, ip: scope.ip });
    });
    this.announceRevoked({ userId: actor.id, sessionId: actor.sessionId });
    return true;
  }

  async changePassword(scope: SignedInScope, currentPassword: string, newPassword: string): Promise<boolean> {
    const { actor } = scope;
    assertPasswordPolicy(newPassword, 'newPassword');
    const user = await scope.em.findOneOrFail(User, { id: actor.id }, { populate: ['passwordHash'] });
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      throw badInput('The current password is incorrect', 'currentPassword');
    }
    if (currentPassword === newPassword) throw badInput('The new password must differ from the current one', 'newPassword');
    const passwordHash = await hashPassword(newPassword);
    await scope.em.transactional(async (tx) => {
      await tx.nativeUpdate(User, { id: actor.id }, { passwordHash, tokenVersion: user.tokenVersion + 1, updatedAt: this.now() });
      await tx.nativeUpdate(Session, { user: actor.id, revokedAt: null }, { revokedAt: this.now() });
      this.deps.audit.record(tx, { action: 'auth.change_password', userId: actor.id, actorId: actor.id, ip: scope.ip });
    });
    this.announceRevoked({ userId: actor.id });
    return true;
  }

  /**
   * Resolves a bearer token to an actor, checking everything that can end a
   * token before its expiry: token version (password change, suspension), the
   * session family (logout, refresh reuse) and the account's status.
   */
  async authenticate(em: EntityManager, bearer: string): Promise<Actor> {
    const claims = await this.deps.tokens.verifyAccess(bearer);
    const user = await em.findOne(User, { id: claims.userId });
    if (!user || user.tokenVersion !== claims.tokenVersion) throw unauthenticated('Access token revoked; sign in again');
    // A PENDING user may sign in (to resend the mail, look around); trading needs ACTIVE and is checked where it matters.
    if (user.status !== UserStatus.ACTIVE && user.status !== UserStatus.PENDING) {
      throw unauthenticated(`This account is ${user.status.toLowerCase()}`);
    }
    const live = await em.count(
      Session,
      { familyId: claims.sessionId, user: user.id, revokedAt: null },
      WITHOUT_OWNER,
    );
    if (live === 0) throw unauthenticated('Session ended; sign in again');
    return { id: user.id, role: user.role, sessionId: claims.sessionId, expiresAt: claims.expiresAt };
  }

  announceRevoked(event: SessionRevokedEvent): void {
    this.deps.bus.publish(Topic.SESSION_REVOKED, event);
  }

  private issueVerifyToken(em: EntityManager, userId: string): string {
    return this.deps.emailTokens.issue(em, userId, EmailTokenPurpose.VERIFY_EMAIL, VERIFY_TOKEN_TTL_HOURS * 3600_000);
  }

  /** Queued, never awaited on SMTP: the account exists either way and the user can ask for the mail again. */
  private async sendVerification(user: User, token: string): Promise<void> {
    await this.deps.notifier.verifyEmail(user.email, token, { trialDays: TRIAL_DAYS, expiresInHours: VERIFY_TOKEN_TTL_HOURS });
  }

  private async startSession(em: EntityManager, user: User, ip: string | null, familyId: string = randomUUID()): Promise<AuthResult> {
    const refreshToken = newOpaqueToken();
    em.create(Session, {
      user,
      familyId,
      tokenHash: hashToken(refreshToken),
      expiresAt: new Date(this.now().getTime() + REFRESH_TOKEN_TTL_MS),
      ip,
      tokenVersion: user.tokenVersion,
      createdAt: this.now(),
    });
    const access = await this.deps.tokens.signAccess(
      { userId: user.id, role: user.role, sessionId: familyId, tokenVersion: user.tokenVersion },
      this.now(),
    );
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt, refreshToken, user };
  }
}
