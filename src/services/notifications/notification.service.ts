import type { MikroORM } from '@mikro-orm/postgresql';
import type { KeyRefusalSource } from '../../engine/ports';
import type { Logger } from 'pino';
import { logContext, type LogContext } from '../../config/log-context';
import Decimal from 'decimal.js';
import { PLAN_RULES } from '../../domain/plans';
import type { SubscriptionPlan } from '../../entities/enums';
import { Invoice } from '../../entities/invoice.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import { User } from '../../entities/user.entity';
import type { BillingNotifier, PlanChangeNotice } from '../billing/billing-notifier';
import { SealedJobData, type PayloadSealer } from '../sealed-job-data';
import type { MailService } from '../mail.service';
import type { JobQueue, SqlRunner, TaskContext, TaskRegistry } from './job-queue';
import type { MailKind, MailParams } from './mail-kinds';
import type { MailRenderer } from './mail-renderer';
import type { SignInNotifier } from './notifier';
import { MAIL_TEMPLATES } from './templates';

export const SEND_MAIL_TASK = 'notifications.send-mail';
const MAIL_MAX_ATTEMPTS = 8;

/** Where an invalid key was noticed (the engine's three places, or the daily check); the mail says so in words. */
export type KeyCheckSource = KeyRefusalSource | 'DAILY_CHECK';
const DETECTED_BY: Record<KeyCheckSource, string> = {
  DAILY_CHECK: 'During today\'s daily check,',
  FAN_OUT: 'While placing an order for you,',
  RECONCILER: 'While checking your account against the exchange,',
  USER_STREAM: 'While following your account\'s live updates,',
};

/** What a mail job carries, sealed: the recipient's address (absent: the user's current one, read at delivery) and the values. */
type SealedPart = { to?: string; params: Record<string, unknown> };
/**
 * A send-mail job's payload as stored in the queue and shown in its logs: nothing readable but the
 * kind, a user id and the request that caused it (its log ids, so the delivery's lines carry them too).
 */
type MailJobPayload = { kind: MailKind; userId?: string; origin?: LogContext; sealed: string };

const SEAL_CONTEXT = 'mail-job';

/** The period an invoice covers, as a reader names it ("November 2026"). */
const monthLabel = (d: Date) => d.toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
const dayLabel = (d: Date) => d.toISOString().slice(0, 10);
const instantLabel = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
/** Money in a mail: two decimals (invoices are in USD, USDT counted 1:1). */
const usd = (amount: Decimal.Value) => new Decimal(amount).toFixed(2);
/** 0.3 → "30" */
const percent = (ratio: Decimal) => ratio.times(100).toString();

/**
 * Every mail to a user goes through here: one method per kind, each a job on
 * the cluster's queue (retried with backoff), so neither a slow nor a failing
 * SMTP server ever holds up or fails the action that caused the mail. The
 * methods never throw: a mail that cannot even be queued is logged.
 */
export class NotificationService implements SignInNotifier, BillingNotifier {
  constructor(
    private readonly deps: {
      queue: JobQueue;
      mail: MailService;
      renderer: MailRenderer;
      orm: MikroORM;
      logger: Logger;
      publicUrl: string;
      /**
       * Links carry single-use tokens, and the queue keeps payloads in PostgreSQL (failed jobs
       * stay) and logs them: sealed, neither the job table nor a log line holds a token or an address.
       */
      sealer: PayloadSealer;
    },
  ) {
    this.sealed = new SealedJobData(deps.sealer, SEAL_CONTEXT);
  }

  private readonly sealed: SealedJobData<SealedPart>;

  registerTasks(registry: TaskRegistry): void {
    registry.define(SEND_MAIL_TASK, (payload, ctx) => this.deliver(payload, ctx), { maxAttempts: MAIL_MAX_ATTEMPTS });
  }

  verifyEmail(to: string, token: string, opts: { trialDays: number; expiresInHours: number }): Promise<void> {
    return this.toAddress(to, 'verify-email', { link: this.link('verify-email', token), token, ...opts });
  }

  passwordReset(to: string, token: string, expiresInMinutes: number): Promise<void> {
    return this.toAddress(to, 'password-reset', { link: this.link('reset-password', token), expiresInMinutes });
  }

  /** The confirmation goes through the same page as a sign-up's: one kind of link proves an address. */
  emailChangeConfirm(newEmail: string, token: string, expiresInHours: number): Promise<void> {
    return this.toAddress(newEmail, 'email-change-confirm', { link: this.link('verify-email', token), expiresInHours });
  }

  emailChangeRequested(oldEmail: string, newEmail: string): Promise<void> {
    return this.toAddress(oldEmail, 'email-change-requested', { newEmail });
  }

  emailChanged(oldEmail: string, newEmail: string): Promise<void> {
    return this.toAddress(oldEmail, 'email-changed', { newEmail });
  }

  /** For the daily check, the engine's fan-out and the reconciler alike. */
  /** `within`: queued in the caller's transaction (the key's switch-off and its audit row), and a failure throws so none is kept. */
  keyTurnedInvalid(userId: string, input: { maskedKey: string; reason: string; source: KeyCheckSource }, within?: SqlRunner): Promise<void> {
    return this.toUser(userId, 'key-invalid', { maskedKey: input.maskedKey, reason: input.reason, detectedBy: DETECTED_BY[input.source] }, within);
  }

  riskLocked(userId: string, reason: string): Promise<void> {
    return this.toUser(userId, 'risk-locked', { reason });
  }

  riskLifted(userId: string, reason: string): Promise<void> {
    return this.toUser(userId, 'risk-lifted', { reason });
  }

  /** The invoice as issued, every line with its calculation (read now: the mail shows what was issued, not what it became). */
  async invoiceIssued(invoiceId: string): Promise<void> {
    const invoice = await this.invoice(invoiceId);
    if (!invoice) return;
    await this.toUser(invoice.user.id, 'invoice-issued', {
      period: monthLabel(invoice.periodStart),
      plan: invoice.plan,
      total: usd(invoice.total),
      subscriptionFee: usd(invoice.subscriptionFee),
      profitShareFee: usd(invoice.profitShareFee),
      dueAt: dayLabel(invoice.dueAt),
      invoiceId: invoice.id,
      lines: (invoice.lines ?? []).map((l) => ({ description: l.description, amount: usd(l.amount), calculation: l.calculation })),
    });
  }

  /** `within`: queued in the caller's transaction (the invoice's overdue mark), and a failure throws so neither is kept. */
  async invoiceOverdue(invoiceId: string, within?: SqlRunner): Promise<void> {
    const invoice = await this.invoice(invoiceId, within !== undefined);
    if (!invoice) return;
    await this.toUser(invoice.user.id, 'invoice-overdue', {
      period: monthLabel(invoice.periodStart), total: usd(invoice.total), dueAt: dayLabel(invoice.dueAt), invoiceId: invoice.id,
    }, within);
  }

  planChanged(userId: string, notice: PlanChangeNotice): Promise<void> {
    const rules = PLAN_RULES[notice.to as SubscriptionPlan];
    return this.toUser(userId, 'plan-changed', {
      from: notice.from,
      to: notice.to,
      monthlyFee: usd(rules.monthlyFee),
      profitSharePct: percent(rules.profitShareRate),
      capPct: percent(rules.maxPositionPct),
      lowered: notice.maxPositionPct,
    });
  }

  accountSuspended(userId: string): Promise<void> {
    return this.toUser(userId, 'account-suspended', {});
  }

  accountBanned(userId: string): Promise<void> {
    return this.toUser(userId, 'account-banned', {});
  }

  /** SignInNotifier (notifier.ts): the sign-in path calls this; like every method here it never throws. */
  signInFromNewIp(user: { id: string; email: string }, ip: string, at: Date): Promise<void> {
    return this.toAddress(user.email, 'sign-in-new-ip', { ip, at: instantLabel(at) });
  }

  private link(route: 'verify-email' | 'reset-password', token: string): string {
    return `${this.deps.publicUrl}/${route}?token=${encodeURIComponent(token)}`;
  }

  private toAddress<K extends MailKind>(to: string, kind: K, params: MailParams[K]): Promise<void> {
    return this.enqueue(kind, null, { to, params: params as Record<string, unknown> });
  }

  private toUser<K extends MailKind>(userId: string, kind: K, params: MailParams[K], within?: SqlRunner): Promise<void> {
    return this.enqueue(kind, userId, { params: params as Record<string, unknown> }, within);
  }

  private async enqueue(kind: MailKind, userId: string | null, part: SealedPart, within?: SqlRunner): Promise<void> {
    try {
      const origin = logContext.getStore();
      const payload: MailJobPayload = {
        kind,
        ...(userId ? { userId } : {}),
        ...(origin ? { origin: { reqId: origin.reqId, ...(origin.connId ? { connId: origin.connId } : {}) } } : {}),
        sealed: this.sealed.seal(part),
      };
      await this.deps.queue.enqueue(SEND_MAIL_TASK, payload, within ? { within } : undefined);
    } catch (err) {
      // In the caller's transaction, the caller decides: its action is undone with the mail.
      if (within) throw err;
      // The action that caused the mail has happened; losing its mail must not undo or fail it.
      this.deps.logger.error({ kind, err: (err as Error).message }, 'mail could not be queued');
    }
  }

  /** The send-mail task: render, then one SMTP attempt; a throw makes the queue retry with backoff. */
  private async deliver(payload: Record<string, unknown>, ctx: TaskContext): Promise<void> {
    const job = payload as unknown as MailJobPayload;
    if (!(job.kind in MAIL_TEMPLATES) || typeof job.sealed !== 'string') {
      this.deps.logger.error({ jobId: ctx.jobId, kind: job.kind }, 'mail job of an unknown kind dropped');
      return;
    }
    const part = this.sealed.open(job.sealed);
    if (!part) {
      // Sealed under a master key this node no longer holds: no retry can read it.
      this.deps.logger.error({ jobId: ctx.jobId, kind: job.kind }, 'mail job could not be unsealed; dropped');
      return;
    }
    const to = part.to ?? (job.userId ? await this.addressOf(job.userId) : null);
    if (!to) {
      this.deps.logger.warn({ jobId: ctx.jobId, kind: job.kind }, 'mail job for a user that no longer exists dropped');
      return;
    }
    const rendered = this.deps.renderer.render(job.kind, part.params as never);
    const send = () => this.deps.mail.send({ to, ...rendered });
    await (job.origin?.reqId ? logContext.run(job.origin, send) : send());
  }

  private async invoice(invoiceId: string, rethrow = false): Promise<Invoice | null> {
    try {
      return await this.deps.orm.em.fork().findOne(Invoice, { id: invoiceId }, WITHOUT_OWNER);
    } catch (err) {
      if (rethrow) throw err;
      this.deps.logger.error({ invoiceId, err: (err as Error).message }, 'invoice mail not queued');
      return null;
    }
  }

  private async addressOf(userId: string): Promise<string | null> {
    const user = await this.deps.orm.em.fork().findOne(User, { id: userId });
    return user?.email ?? null;
  }
}
