import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { EmailTokenPurpose } from '../entities/enums';
import { User } from '../entities/user.entity';
import { AppError, badInput } from '../errors/app-error';
import type { AccountLimit } from './account-limits';
import type { AuditService } from './audit.service';
import type { SessionRevokedEvent } from './session-revocation';
import { normalizeEmail } from './email';
import type { EmailTokenService, TokenProblem } from './email-token.service';
import type { JobQueue, TaskRegistry } from './notifications/job-queue';
import type { NotificationService } from './notifications/notification.service';
import { assertPasswordPolicy, hashPassword } from './password';
import type { RateLimits } from './rate-limits';
import type { Scope } from './scope';
import { endSessions } from './session-revocation';

export const RESET_REQUEST_TASK = 'accounts.password-reset-request';
export const RESET_TTL_MINUTES = 60;

export type ResetOutcome = { kind: 'done' } | { kind: 'weak'; message: string } | { kind: TokenProblem };

const PROBLEM_MESSAGES: Record<TokenProblem, string> = {
  unknown: 'This password-reset link is not valid; ask for a new one',
  used: 'This password-reset link was already used; ask for a new one',
  expired: 'This password-reset link has expired; ask for a new one',
};

/**
 * Forgotten passwords: a single-use link (stored hashed, valid one hour)
 * mailed to the account's address, and the reset that ends every session.
 * The request answers the same whether or not the address has an account, and
 * takes the same path too: it only queues a job, and the job looks the
 * address up, so neither the answer nor its timing tells them apart.
 */
export class PasswordResetService {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      tokens: EmailTokenService;
      audit: AuditService;
      notifier: Pick<NotificationService, 'passwordReset'>;
      queue: JobQueue;
      limits: RateLimits<AccountLimit>;
      sessions: { announceRevoked(event: SessionRevokedEvent): void };
      logger: Logger;
      clock?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  registerTasks(registry: TaskRegistry): void {
    registry.define(RESET_REQUEST_TASK, (payload) => this.issue(String(payload.email), (payload.ip as string | null) ?? null), { maxAttempts: 5 });
  }

  /** requestPasswordReset: always true (RATE_LIMITED aside, which counts unknown addresses alike). */
  async request(scope: Scope, rawEmail: string): Promise<boolean> {
    const email = normalizeEmail(rawEmail);
    await this.deps.limits.consume('passwordResetPerIp', scope.ip ?? 'unknown');
    await this.deps.limits.consume('passwordResetPerEmail', email);
    await this.deps.queue.enqueue(RESET_REQUEST_TASK, { email, ip: scope.ip });
    return true;
  }

  /** GET /reset-password: whether the link can still set a password (it is not spent here). */
  async inspect(scope: Scope, token: string): Promise<{ kind: 'valid' } | { kind: TokenProblem }> {
    const found = await this.deps.tokens.find(scope.em, token, [EmailTokenPurpose.RESET_PASSWORD]);
    return 'problem' in found ? { kind: found.problem } : { kind: 'valid' };
  }

  /** resetPassword: BAD_USER_INPUT for a weak password (the link stays usable) or a link that cannot be used. */
  async reset(scope: Scope, token: string, newPassword: string): Promise<boolean> {
    const outcome = await this.attempt(scope, token, newPassword);
    if (outcome.kind === 'weak') throw badInput(outcome.message, 'newPassword');
    if (outcome.kind !== 'done') throw badInput(PROBLEM_MESSAGES[outcome.kind], 'token');
    return true;
  }

  /** The reset itself, for the mutation and the page's form alike. */
  async attempt(scope: Scope, token: string, newPassword: string): Promise<ResetOutcome> {
    // Looked up before hashing, so forged tokens cost a lookup and not a bcrypt round.
    const found = await this.deps.tokens.find(scope.em, token, [EmailTokenPurpose.RESET_PASSWORD]);
    if ('problem' in found) return { kind: found.problem };
    const userId = found.row.user.id;
    try {
      assertPasswordPolicy(newPassword, 'newPassword', { email: found.row.user.email });
    } catch (err) {
      // The link stays unspent: the user picks a better password and submits again.
      if (err instanceof AppError) return { kind: 'weak', message: err.message };
      throw err;
    }
    const passwordHash = await hashPassword(newPassword);
    const now = this.now();
    const done = await scope.em.transactional(async (tx) => {
      if (!(await this.deps.tokens.claim(tx, found.row))) return false;
      await tx.nativeUpdate(User, { id: userId }, { passwordHash, updatedAt: now });
      // The version bump ends every access token, and any sign-in that checked the old password meanwhile.
      await endSessions(tx, userId, now, { bumpTokenVersion: true });
      await this.deps.tokens.revokeOpen(tx, userId, [EmailTokenPurpose.RESET_PASSWORD]);
      this.deps.audit.record(tx, { action: 'auth.password_reset', userId, actorId: userId, detail: 'password set from a reset link; every session ended', ip: scope.ip });
      return true;
    });
    if (!done) return { kind: 'used' };
    this.deps.sessions.announceRevoked({ userId });
    return { kind: 'done' };
  }

  /** The queued half of a request: only here does it matter whether the address has an account. */
  private async issue(email: string, ip: string | null): Promise<void> {
    const em = this.deps.orm.em.fork();
    const user = await em.findOne(User, { email });
    if (!user) return;
    const token = await em.transactional(async (tx) => {
      // Only the newest link works.
      await this.deps.tokens.revokeOpen(tx, user.id, [EmailTokenPurpose.RESET_PASSWORD]);
      const issued = this.deps.tokens.issue(tx, user.id, EmailTokenPurpose.RESET_PASSWORD, RESET_TTL_MINUTES * 60_000);
      this.deps.audit.record(tx, { action: 'auth.password_reset_requested', userId: user.id, ip });
      return issued;
    });
    await this.deps.notifier.passwordReset(user.email, token, RESET_TTL_MINUTES);
  }
}
