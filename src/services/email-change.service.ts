import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import type { EmailToken } from '../entities/email-token.entity';
import { EmailTokenPurpose, UserStatus } from '../entities/enums';
import { User } from '../entities/user.entity';
import { badInput, conflict } from '../errors/app-error';
import type { AccountLimit } from './account-limits';
import type { AuditService } from './audit.service';
import type { SessionRevokedEvent } from './session-revocation';
import { networkOf } from './client-ip';
import type { EmailTokenService } from './email-token.service';
import type { NotificationService } from './notifications/notification.service';
import { verifyPassword } from './password';
import { currentPasswordCounters, type PasswordGuessGuard } from './password-guesses';
import type { RateLimits } from './rate-limits';
import type { Scope, SignedInScope } from './scope';
import { endSessions } from './session-revocation';

export const CHANGE_EMAIL_TTL_HOURS = 24;

export type EmailChangeOutcome = { kind: 'email-changed'; newEmail: string } | { kind: 'used' | 'inactive' | 'taken' };

/**
 * Changing the sign-in address (updateMe): the current password proves the
 * person, the link mailed to the new address proves the address, and only
 * then does the account switch. Until that moment the new address is nobody's:
 * it is not reserved, anyone may still register it, and when two accounts
 * ask for the same address the first confirmation wins (the unique index on
 * users.email decides).
 */
export class EmailChangeService {
  constructor(
    private readonly deps: {
      tokens: EmailTokenService;
      audit: AuditService;
      notifier: Pick<NotificationService, 'emailChangeConfirm' | 'emailChangeRequested' | 'emailChanged'>;
      limits: RateLimits<AccountLimit>;
      /** The same guard, and the same counters, as changePassword's current password: one secret, one allowance. */
      guesses: Pick<PasswordGuessGuard, 'reserve'>;
      sessions: { announceRevoked(event: SessionRevokedEvent): void };
      clock?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** Mails the confirmation link to `newEmail` (already normalised) and tells the current address. Changes nothing yet. */
  async request(scope: SignedInScope, newEmail: string, currentPassword: string | null | undefined): Promise<User> {
    const userId = scope.actor.id;
    if (!currentPassword) throw badInput('currentPassword is required to change the email address', 'currentPassword');
    // Reserved before the check, so parallel (or alias-batched) guesses cannot all slip under the limit.
    const guess = await this.deps.guesses.reserve(currentPasswordCounters(userId, networkOf(scope.ip)));
    if ('refused' in guess) throw guess.refused.error;
    const user = await scope.em.findOneOrFail(User, { id: userId }, { populate: ['passwordHash'] });
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      await guess.reservation.failed();
      this.deps.audit.record(scope.em, { action: 'user.email_change_failed', userId, actorId: userId, detail: 'wrong current password', ip: scope.ip });
      await scope.em.flush();
      throw badInput('The current password is incorrect', 'currentPassword');
    }
    await guess.reservation.succeeded();
    // Each request mails an address of the requester's choosing: capped even for the password's holder.
    await this.deps.limits.consume('emailChangePerUser', userId);
    if (user.status !== UserStatus.ACTIVE) throw badInput('Verify your current email address before changing it', 'email');
    // Only after the password: nobody without it learns whether an address has an account.
    if ((await scope.em.count(User, { email: newEmail, id: { $ne: userId } })) > 0) {
      throw conflict('An account with this email already exists');
    }
    const token = await scope.em.transactional(async (tx) => {
      await this.deps.tokens.revokeOpen(tx, userId, [EmailTokenPurpose.CHANGE_EMAIL]);
      const issued = this.deps.tokens.issue(tx, userId, EmailTokenPurpose.CHANGE_EMAIL, CHANGE_EMAIL_TTL_HOURS * 3600_000, {
        newEmail,
        sessionId: scope.actor.sessionId,
      });
      this.deps.audit.record(tx, {
        action: 'user.email_change_requested',
        userId,
        actorId: userId,
        detail: `change to ${newEmail} awaits confirmation from that address`,
        ip: scope.ip,
      });
      return issued;
    });
    await this.deps.notifier.emailChangeConfirm(newEmail, token, CHANGE_EMAIL_TTL_HOURS);
    await this.deps.notifier.emailChangeRequested(user.email, newEmail);
    return user;
  }

  /** The link in the confirmation mail was followed: switch the address, end every other session, tell the old address. */
  async confirm(scope: Scope, row: EmailToken): Promise<EmailChangeOutcome> {
    const now = this.now();
    const newEmail = row.newEmail;
    if (!newEmail) return { kind: 'used' };
    let result: { userId: string; oldEmail: string } | EmailChangeOutcome;
    try {
      result = await scope.em.transactional(async (tx) => {
        const user = await tx.findOne(User, { id: row.user.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!user || user.status !== UserStatus.ACTIVE) return { kind: 'inactive' as const };
        if (!(await this.deps.tokens.claim(tx, row))) return { kind: 'used' as const };
        const oldEmail = user.email;
        user.email = newEmail;
        user.updatedAt = now;
        await tx.flush();
        await endSessions(tx, user.id, now, { bumpTokenVersion: false, keepFamilyId: row.sessionId });
        // Links mailed to the old address (a pending reset) or for another new one stop working.
        await this.deps.tokens.revokeOpen(tx, user.id, [EmailTokenPurpose.CHANGE_EMAIL, EmailTokenPurpose.RESET_PASSWORD]);
        this.deps.audit.record(tx, {
          action: 'user.email_changed',
          userId: user.id,
          actorId: user.id,
          detail: `email changed from ${oldEmail} to ${newEmail}`,
          ip: scope.ip,
        });
        return { userId: user.id, oldEmail };
      });
    } catch (err) {
      // Registered, or confirmed by another account, since the request: that one was first.
      if (err instanceof UniqueConstraintViolationException) return { kind: 'taken' };
      throw err;
    }
    if ('kind' in result) return result;
    this.deps.sessions.announceRevoked({ userId: result.userId, keepSessionId: row.sessionId ?? undefined });
    await this.deps.notifier.emailChanged(result.oldEmail, newEmail);
    return { kind: 'email-changed', newEmail };
  }
}
