import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../engine/ports';
import type { AuditService } from '../audit.service';
import type { RateLimits } from '../rate-limits';
import type { BillingNotifier } from './billing-notifier';
import { DailySettlement } from './daily-settlement';
import { InvoiceIssuer } from './invoice-issuer';
import { InvoiceService } from './invoice.service';
import { OverdueNotices } from './overdue-notices';
import { InvoicePayments, type PaymentRecorder } from './payment-recorder';
import { PlanHistory } from './plan-history';
import { PlanService } from './plan.service';
import { ProfitService } from './profit.service';
import { ProfitTracker, type ProfitShareMode } from './profit-tracker';

/** Profit, fees, invoices and plans: the business loop. */
export interface BillingServices {
  plans: PlanService;
  profits: ProfitService;
  invoices: InvoiceService;
  /** The daily job's work (and a test's). */
  settlement: DailySettlement;
  /** The monthly job's work. */
  issuer: InvoiceIssuer;
  /** The hourly job's work: owners told once when an invoice goes overdue. */
  overdue: OverdueNotices;
  payments: PaymentRecorder;
}

export function createBilling(deps: {
  orm: MikroORM;
  audit: AuditService;
  clock: Clock;
  logger: Logger;
  mode: ProfitShareMode;
  invoiceDueDays: number;
  limits: RateLimits<'planChange'>;
  onChanged: (userId: string) => void;
  /** Who tells users about plans and invoices (the notifications module: queued mails). */
  notifier: BillingNotifier;
}): BillingServices {
  const { orm, audit, clock, notifier } = deps;
  const logger = deps.logger.child({ module: 'billing' });
  const history = new PlanHistory();
  const settlement = new DailySettlement({ orm, tracker: new ProfitTracker(deps.mode), audit, clock, logger });
  const issuer = new InvoiceIssuer({ orm, settlement, history, notifier, audit, clock, dueDays: deps.invoiceDueDays, logger });
  const payments = new InvoicePayments({ orm, audit, clock });
  return {
    plans: new PlanService({ history, audit, notifier, limits: deps.limits, clock, logger, onChanged: deps.onChanged }),
    profits: new ProfitService({ settlement, clock }),
    invoices: new InvoiceService({ issuer, payments, audit, clock }),
    settlement,
    issuer,
    overdue: new OverdueNotices({ orm, notifier, clock, logger }),
    payments,
  };
}

/** Per user: plan changes allowed per hour (each writes history, an audit row and a mail). */
export const PLAN_CHANGE_LIMIT = { planChange: { points: 10, windowSeconds: 3600, message: 'Too many plan changes; try again in an hour' } };
