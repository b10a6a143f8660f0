import { randomUUID } from 'node:crypto';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { EmailTokenPurpose, UserStatus } from '../entities/enums';
import { Session } from '../entities/session.entity';
import { User } from '../entities/user.entity';
import { AppError, badInput, conflict, ErrorCode, forbidden, unauthenticated } from '../errors/app-error';
import type { EventBus } from '../realtime/event-bus';
import { Topic } from '../realtime/topics';
import type { AuditEntryInput, AuditService } from './audit.service';
import type { AuthLimitName, AuthLimits } from './auth-limits';
import { networkOf } from './client-ip';
import { normalizeEmail } from './email';
import type { KnownIpStore } from './known-ips';
import type { SignInNotifier } from './notifications/notifier';
import { currentPasswordCounters, signInCounters, type GuessCounterKind, type PasswordGuessGuard } from './password-guesses';
import type { EmailTokenService } from './email-token.service';
import type { EmailVerificationService } from './email-verification.service';
import type { NotificationService } from './notifications/notification.service';
import { assertPasswordPolicy, burnPasswordCheck, hashPassword, verifyPassword } from './password';
import type { Actor, Scope, SignedInScope } from './scope';
import { TRIAL_DAYS } from '../domain/plans';
import type { SessionRevokedEvent } from './session-revocation';
import { hashToken, newOpaqueToken, REFRESH_TOKEN_TTL_MS, type TokenService } from './token.service';

const VERIFY_TOKEN_TTL_HOURS = 24;
export { TRIAL_DAYS };

export interface AuthResult {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  user: User;
}


/** Kept here for callers that import it from the auth service; the one definition is in email.ts. */
export { normalizeEmail } from './email';

const INCORRECT = 'Email or password is incorrect';

const LOCK_DETAIL: Record<GuessCounterKind, string> = {
  account: 'account locked for 15 minutes to sign-ins from networks it has not used, after 5 failed sign-ins',
  knownNetwork: 'account locked for 15 minutes on this known network, after 5 failed sign-ins from it',
  network: 'this network is held for 15 minutes after too many failed sign-ins across accounts',
  global: 'sign-ins from new networks paused cluster-wide',
};

/** Sign-up, email verification, sign-in, refresh-token rotation and sign-out (DESIGN §4 "Register", "Sessions"). */
export class AuthService {
  constructor(
    private readonly deps: {
      tokens: TokenService;
      notifier: Pick<NotificationService, 'verifyEmail'>;
      emailTokens: EmailTokenService;
      verification: Pick<EmailVerificationService, 'verifySignUp'>;
      audit: AuditService;
      limits: AuthLimits;
      /** Sign-in's and changePassword's guess counters, with the locks they reached (shared with the email change). */
      guesses: PasswordGuessGuard;
      knownIps: KnownIpStore;
      signInNotifier: SignInNotifier;
      bus: EventBus;
      publicUrl: string;
      logger: Logger;
      now?: () => Date;
    },
  ) {
    this.guesses = deps.guesses;
  }

  private readonly guesses: PasswordGuessGuard;

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  async register(scope: Scope, input: { email: string; password: string }): Promise<User> {
    const email = normalizeEmail(input.email);
    assertPasswordPolicy(input.password, 'password', { email });
    // After validation, before the costly hash: what a flood from one network can spend.
    await this.limited(scope, 'register', networkOf(scope.ip), { action: 'auth.rate_limited', detail: 'register' });
    await this.limited(scope, 'registerEmail', email, { action: 'auth.rate_limited', detail: 'register for one address' });
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
    await this.limited(scope, 'resendNetwork', networkOf(scope.ip), { action: 'auth.rate_limited', detail: 'resend verification' });
    await this.limited(scope, 'resendEmail', email, { action: 'auth.rate_limited', detail: 'resend verification for one address' });
    const sent = await scope.em.transactional(async (tx) => {
      const user = await tx.findOne(User, { email });
      const pending = user?.status === UserStatus.PENDING;
      this.deps.audit.record(tx, {
        action: 'user.resend_verification',
        userId: user?.id ?? null,
        detail: pending ? 'verification mail sent' : user ? 'not sent: already verified' : 'not sent: no account with this email',
        ip: scope.ip,
      });
      if (!user || !pending) return null;
      await this.deps.emailTokens.revokeOpen(tx, user.id, [EmailTokenPurpose.VERIFY_EMAIL]);
      return { user, token: this.issueVerifyToken(tx, user.id) };
    });
    if (sent) await this.sendVerification(sent.user, sent.token);
    return true;
  }

  /**
   * Wrong password, unknown email and a suspended or banned account answer
   * alike (UNAUTHENTICATED, same message, same bcrypt cost, same counting),
   * so neither the password nor the account's existence or state leaks.
   */
  async login(scope: Scope, rawEmail: string, password: string): Promise<AuthResult> {
    const email = normalizeEmail(rawEmail);
    const now = this.now();
    const network = networkOf(scope.ip);
    const user = await scope.em.findOne(User, { email }, { populate: ['passwordHash'] });
    const knownNetwork = user ? await this.deps.knownIps.isKnown(scope.em, user.id, network, now) : false;
    const outcome = await this.guesses.reserve(signInCounters({ email, userId: user?.id ?? null, network, knownNetwork }));
    if ('refused' in outcome) {
      await this.auditRefusal(scope, outcome.refused.by, { action: 'auth.login_rate_limited', userId: user?.id ?? null }, outcome.refused.error);
      throw outcome.refused.error;
    }
    const valid = user ? await verifyPassword(password, user.passwordHash) : await burnPasswordCheck(password);
    const barred = user?.status === UserStatus.SUSPENDED || user?.status === UserStatus.BANNED;
    if (!user || !valid || barred) {
      const locked = await outcome.reservation.failed();
      this.deps.audit.record(scope.em, {
        action: valid ? 'auth.login_refused' : 'auth.login_failed',
        userId: user?.id ?? null,
        detail: !user ? 'unknown email' : valid ? `account ${user.status.toLowerCase()}` : 'wrong password',
        ip: scope.ip,
      });
      for (const by of locked) {
        this.deps.audit.record(scope.em, { action: 'auth.login_locked', userId: by === 'network' ? null : (user?.id ?? null), detail: LOCK_DETAIL[by], ip: scope.ip });
      }
      await scope.em.flush();
      throw unauthenticated(INCORRECT);
    }
    await outcome.reservation.succeeded();
    const { session, newNetwork } = await scope.em.transactional(async (tx) => {
      const remembered = await this.deps.knownIps.remember(tx, user.id, network, now);
      this.deps.audit.record(tx, {
        action: 'auth.login',
        userId: user.id,
        actorId: user.id,
        detail: remembered.newNetwork ? 'from a network not used before' : null,
        ip: scope.ip,
      });
      return { session: await this.startSession(tx, tx.merge(user), scope.ip), newNetwork: remembered.newNetwork };
    });
    // Not awaited: a slow or failing mail never delays or fails the sign-in.
    if (newNetwork) void this.deps.signInNotifier.signInFromNewIp({ id: user.id, email: user.email }, scope.ip ?? 'unknown', now);
    return session;
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
    const user = await scope.em.findOneOrFail(User, { id: actor.id }, { populate: ['passwordHash'] });
    assertPasswordPolicy(newPassword, 'newPassword', { email: user.email });
    const outcome = await this.guesses.reserve(currentPasswordCounters(actor.id, networkOf(scope.ip)));
    if ('refused' in outcome) {
      await this.auditRefusal(scope, outcome.refused.by, { action: 'auth.change_password_rate_limited', userId: actor.id, actorId: actor.id }, outcome.refused.error);
      throw outcome.refused.error;
    }
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      const locked = await outcome.reservation.failed();
      this.deps.audit.record(scope.em, { action: 'auth.change_password_failed', userId: actor.id, actorId: actor.id, detail: 'wrong current password', ip: scope.ip });
      if (locked.length > 0) {
        this.deps.audit.record(scope.em, {
          action: 'auth.change_password_locked',
          userId: actor.id,
          actorId: actor.id,
          detail: `password changes held for 15 minutes after too many wrong current passwords (${locked.join(', ')})`,
          ip: scope.ip,
        });
      }
      await scope.em.flush();
      throw badInput('The current password is incorrect', 'currentPassword');
    }
    await outcome.reservation.succeeded();
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

  /** Spends one request of a per-key allowance; a refusal answers RATE_LIMITED and is audited (throttled). */
  private async limited(scope: Scope, name: AuthLimitName, key: string, entry: AuditEntryInput): Promise<void> {
    try {
      await this.deps.limits.consume(name, key);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.RATE_LIMITED) {
        await this.auditRefusal(scope, name, { ...entry, userId: scope.actor?.id ?? null, actorId: scope.actor?.id ?? null }, err);
      }
      throw err;
    }
  }

  /**
   * One audit row per refused key and minute: what an admin needs to see an
   * attack, without turning a flood of cheap refusals into a flood of inserts.
   */
  private async auditRefusal(scope: Scope, by: string, entry: AuditEntryInput, error: AppError): Promise<void> {
    const key = `${entry.action}|${by}|${entry.userId ?? networkOf(scope.ip)}`;
    if (!(await this.deps.limits.allows('auditRefusal', key))) return;
    const em = scope.em.fork();
    this.deps.audit.record(em, { ...entry, detail: `${entry.detail ? `${entry.detail}: ` : ''}${error.message} (${by})`, ip: scope.ip });
    await em.flush();
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
