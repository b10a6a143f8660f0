import type { InvoiceStatus, PeriodType, SubscriptionPlan } from '../../entities/enums';
import type { Invoice } from '../../entities/invoice.entity';
import { formatDecimal } from '../../schema/scalars';

/** Billing as the API shows it (the GraphQL types' shape): amounts as plain decimal strings. */

export interface ProfitRecordView {
  periodType: PeriodType;
  periodStart: Date;
  periodEnd: Date;
  startingBalance: string;
  endingBalance: string;
  grossProfit: string;
  feeRate: number;
  platformFee: string;
  netProfit: string;
}

export interface ProfitSummaryView {
  records: ProfitRecordView[];
  totalGrossProfit: string;
  totalPlatformFee: string;
  totalNetProfit: string;
}

export interface InvoiceLineView {
  description: string;
  amount: string;
  calculation: string;
}

export interface InvoiceView {
  id: string;
  userId: string;
  periodStart: Date;
  periodEnd: Date;
  plan: SubscriptionPlan;
  subscriptionFee: string;
  profitShareFee: string;
  total: string;
  status: InvoiceStatus;
  lines: InvoiceLineView[];
  dueAt: Date;
  paidAt: Date | null;
  paymentReference: string | null;
  createdAt: Date;
}

export function toInvoiceView(invoice: Invoice): InvoiceView {
  return {
    id: invoice.id,
    userId: invoice.user.id,
    periodStart: invoice.periodStart,
    periodEnd: invoice.periodEnd,
    plan: invoice.plan,
    subscriptionFee: formatDecimal(invoice.subscriptionFee),
    profitShareFee: formatDecimal(invoice.profitShareFee),
    total: formatDecimal(invoice.total),
    status: invoice.status,
    lines: (invoice.lines ?? []).map((l) => ({ description: l.description, amount: formatDecimal(l.amount), calculation: l.calculation })),
    dueAt: invoice.dueAt,
    paidAt: invoice.paidAt,
    paymentReference: invoice.paymentReference,
    createdAt: invoice.createdAt,
  };
}
