import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { SubscriptionPlan } from '../../entities/enums';
import { Invoice } from '../../entities/invoice.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import { User } from '../../entities/user.entity';
import type { JobQueue, JobScheduler } from '../../jobs/job-scheduler';
import type { MailService } from '../mail.service';
import type { BillingNotifier, PlanChangeNotice } from './billing-notifier';
import { toInvoiceView } from './billing-views';
import { invoiceIssuedMail } from './invoice-mail.template';
import { planChangedMail } from './plan-changed-mail.template';

const INVOICE_MAIL = 'billing.invoice-mail';
const PLAN_MAIL = 'billing.plan-mail';
const PLANS = new Set<string>(Object.values(SubscriptionPlan));

/**
 * Billing's mails as jobs on the cluster's queue: retried with backoff, never
 * in the way of the settlement or the plan change, and the queue's rows hold
 * ids, not addresses. The mail is rendered when it is sent, from the stored invoice.
 */
export class BillingMailer implements BillingNotifier {
  constructor(private readonly deps: { orm: MikroORM; queue: JobQueue; mail: MailService; publicUrl: string; logger: Logger }) {}

  registerTasks(scheduler: JobScheduler): void {
    scheduler.define(INVOICE_MAIL, (payload) => this.sendInvoice(String(payload.invoiceId)), { maxAttempts: 8 });
    scheduler.define(PLAN_MAIL, (payload) => this.sendPlanChange(payload), { maxAttempts: 8 });
  }

  async invoiceIssued(invoiceId: string): Promise<void> {
    await this.deps.queue.enqueue(INVOICE_MAIL, { invoiceId }, { jobKey: `${INVOICE_MAIL}:${invoiceId}` });
  }

  async planChanged(userId: string, notice: PlanChangeNotice): Promise<void> {
    await this.deps.queue.enqueue(PLAN_MAIL, { userId, ...notice });
  }

  private async sendInvoice(invoiceId: string): Promise<void> {
    const em = this.deps.orm.em.fork();
    const invoice = await em.findOne(Invoice, { id: invoiceId }, { ...WITHOUT_OWNER, populate: ['user'] });
    if (!invoice) return;
    await this.deps.mail.send({ to: invoice.user.email, ...invoiceIssuedMail(toInvoiceView(invoice), this.deps.publicUrl) });
  }

  private async sendPlanChange(payload: Record<string, unknown>): Promise<void> {
    const { userId, from, to, maxPositionPct } = payload as { userId: string; from: string; to: string; maxPositionPct: PlanChangeNotice['maxPositionPct'] };
    if (!PLANS.has(from) || !PLANS.has(to)) return;
    const user = await this.deps.orm.em.fork().findOne(User, { id: userId });
    if (!user) return;
    await this.deps.mail.send({ to: user.email, ...planChangedMail({ from: from as SubscriptionPlan, to: to as SubscriptionPlan, maxPositionPct }) });
  }
}
