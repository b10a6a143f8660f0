import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { EmailTokenPurpose } from '../entities/enums';
import { User } from '../entities/user.entity';
import { AppError, badInput, ErrorCode } from '../errors/app-error';
import type { AccountLimit } from './account-limits';
import type { AuditService } from './audit.service';
import { networkOf } from './client-ip';
import type { SessionRevokedEvent } from './session-revocation';
import { normalizeEmail } from './email';
import type { EmailTokenService, TokenProblem } from './email-token.service';
import type { JobQueue, TaskContext, TaskRegistry } from './notifications/job-queue';
import type { NotificationService } from './notifications/notification.service';
import { SealedJobData, type PayloadSealer } from './sealed-job-data';
import { assertPasswordPolicy, hashPassword } from './password';
import type { RateLimits } from './rate-limits';
import type { Scope } from './scope';
import { endSessions } from './session-revocation';

export const RESET_REQUEST_TASK = 'accounts.password-reset-request';
export const RESET_TTL_MINUTES = 60;
/** AAD of the sealed request: a reset job's payload cannot be replayed as a mail job's, nor the reverse. */
const SEAL_CONTEXT = 'password-reset-job';

/** What the queued request carries, sealed: the address asked for and the client's IP (decisions.md, "Job payloads are sealed"). */
type ResetRequest = { email: string; ip: string | null };

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
      /** The queue keeps payloads in PostgreSQL (failed jobs stay) and logs them: the address travels sealed. */
      sealer: PayloadSealer;
      clock?: () => Date;
    },
  ) {
    this.sealed = new SealedJobData(deps.sealer, SEAL_CONTEXT);
  }

  private readonly sealed: SealedJobData<ResetRequest>;

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  registerTasks(registry: TaskRegistry): void {
    registry.define(RESET_REQUEST_TASK, (payload, ctx) => this.work(payload, ctx), { maxAttempts: 5 });
  }

  /** requestPasswordReset: always true (RATE_LIMITED aside, which counts unknown addresses alike). */
  async request(scope: Scope, rawEmail: string): Promise<boolean> {
    const email = normalizeEmail(rawEmail);
    await this.limited(scope, 'passwordResetPerIp', networkOf(scope.ip), 'password reset');
    await this.limited(scope, 'passwordResetPerEmail', email, 'password reset for one address');
    const request: ResetRequest = { email, ip: scope.ip };
    await this.deps.queue.enqueue(RESET_REQUEST_TASK, { sealed: this.sealed.seal(request) });
    return true;
  }

  /**
   * Spends one request of a per-key allowance. A refusal answers RATE_LIMITED
   * and is audited (`auth.rate_limited`, like register and resend), at most
   * once per key and minute so a flood of refusals is not a flood of inserts.
   */
  private async limited(scope: Scope, name: 'passwordResetPerIp' | 'passwordResetPerEmail', key: string, what: string): Promise<void> {
    try {
      await this.deps.limits.consume(name, key);
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.RATE_LIMITED && (await this.deps.limits.allows('auditRefusal', `reset|${name}|${networkOf(scope.ip)}`))) {
        const em = scope.em.fork();
        this.deps.audit.record(em, { action: 'auth.rate_limited', detail: `${what}: ${err.message} (${name})`, ip: scope.ip });
        await em.flush();
      }
      throw err;
    }
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

  private async work(payload: Record<string, unknown>, ctx: TaskContext): Promise<void> {
    if (typeof payload.sealed !== 'string') {
      this.deps.logger.error({ jobId: ctx.jobId }, 'password-reset request without a sealed payload dropped');
      return;
    }
    const request = this.sealed.open(payload.sealed);
    if (!request) {
      // Sealed under a master key this node no longer holds: no retry can read it (the user asks again).
      this.deps.logger.error({ jobId: ctx.jobId }, 'password-reset request could not be unsealed; dropped');
      return;
    }
    await this.issue(request.email, request.ip);
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
