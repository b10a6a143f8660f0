import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EmailToken } from '../entities/email-token.entity';
import { EmailTokenPurpose, SubscriptionPlan, UserStatus } from '../entities/enums';
import { User } from '../entities/user.entity';
import { badInput, forbidden } from '../errors/app-error';
import type { AuditService } from './audit.service';
import { networkOf } from './client-ip';
import type { EmailChangeOutcome, EmailChangeService } from './email-change.service';
import type { EmailTokenService, TokenProblem } from './email-token.service';
import type { KnownIpStore } from './known-ips';
import { TRIAL_DAYS } from '../domain/plans';
import type { Scope } from './scope';

export type VerifyLinkOutcome = { kind: 'verified' } | { kind: TokenProblem | 'inactive' } | EmailChangeOutcome;

const INVALID = 'This verification link is invalid or has expired; ask for a new one';

/**
 * Proving an address: a sign-up's (activates the account and starts the
 * trial) or a new one for an existing account (switches it). The verifyEmail
 * mutation takes only sign-up tokens, because it also signs in; the
 * /verify-email page takes both and signs nobody in.
 */
export class EmailVerificationService {
  constructor(
    private readonly deps: {
      tokens: EmailTokenService;
      audit: AuditService;
      emailChange: Pick<EmailChangeService, 'confirm'>;
      knownIps: Pick<KnownIpStore, 'remember'>;
      clock?: () => Date;
    },
  ) {}

  private now(): Date {
    return this.deps.clock?.() ?? new Date();
  }

  /** The verifyEmail mutation, inside the caller's transaction (which then starts the session). */
  async verifySignUp(tx: EntityManager, scope: Scope, token: string): Promise<User> {
    const found = await this.deps.tokens.find(tx, token, [EmailTokenPurpose.VERIFY_EMAIL]);
    if ('problem' in found) throw badInput(INVALID, 'token');
    const outcome = await this.activate(tx, scope, found.row);
    if (outcome === 'inactive') throw forbidden('This account is not active');
    if (outcome === 'used') throw badInput(INVALID, 'token');
    return outcome;
  }

  /** GET /verify-email: says what happened, or why nothing did. */
  async followLink(scope: Scope, token: string): Promise<VerifyLinkOutcome> {
    const found = await this.deps.tokens.find(scope.em, token, [EmailTokenPurpose.VERIFY_EMAIL, EmailTokenPurpose.CHANGE_EMAIL]);
    if ('problem' in found) return { kind: found.problem };
    if (found.row.purpose === EmailTokenPurpose.CHANGE_EMAIL) return this.deps.emailChange.confirm(scope, found.row);
    const outcome = await scope.em.transactional((tx) => this.activate(tx, scope, found.row));
    return typeof outcome === 'string' ? { kind: outcome } : { kind: 'verified' };
  }

  private async activate(tx: EntityManager, scope: Scope, row: EmailToken): Promise<User | 'inactive' | 'used'> {
    // Locked: a suspension committing meanwhile is seen, not overwritten.
    const user = await tx.findOneOrFail(User, { id: row.user.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (user.status !== UserStatus.PENDING && user.status !== UserStatus.ACTIVE) return 'inactive';
    // Single use even under concurrent clicks: only the request that flips used_at proceeds.
    if (!(await this.deps.tokens.claim(tx, row))) return 'used';
    const now = this.now();
    if (user.status === UserStatus.PENDING) {
      user.status = UserStatus.ACTIVE;
      user.emailVerifiedAt = now;
      user.subscription = SubscriptionPlan.FREE;
      user.trialEndsAt = new Date(now.getTime() + TRIAL_DAYS * 24 * 60 * 60 * 1000);
    }
    this.deps.audit.record(tx, { action: 'user.verify_email', userId: user.id, actorId: user.id, ip: scope.ip });
    // Opening the mailed link proves the mailbox: this network is the account's first known one.
    await this.deps.knownIps.remember(tx, user.id, networkOf(scope.ip), now);
    return user;
  }
}
