import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { PeriodType, type InvoiceStatus, type SubscriptionPlan } from '../entities/enums';
import { Invoice } from '../entities/invoice.entity';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import { UserProfit } from '../entities/user-profit.entity';
import { formatDecimal } from '../schema/scalars';

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
  lines: Array<{ description: string; amount: string; calculation: string }>;
  dueAt: Date;
  paidAt: Date | null;
  paymentReference: string | null;
  createdAt: Date;
}

/**
 * What the admin console reads of a user's billing. Billing owns profit and
 * invoices; this port lets the console show them without knowing how billing
 * stores them, and billing replaces the table-backed reader below with its own.
 */
export interface BillingReader {
  /** The user's daily profit records of the last `days` days, with their totals. */
  profitOf(em: EntityManager, userId: string, days: number): Promise<ProfitSummaryView>;
  invoicesOf(em: EntityManager, userId: string): Promise<InvoiceView[]>;
}

/** Days an invoice stays open (ENV.md INVOICE_DUE_DAYS default) while the table has no due date of its own. */
const DEFAULT_DUE_DAYS = 14;

/** Reads `user_profits` and `invoices` as they are today. */
export class TableBillingReader implements BillingReader {
  async profitOf(em: EntityManager, userId: string, days: number): Promise<ProfitSummaryView> {
    const since = new Date(Date.now() - days * 86_400_000);
    const rows = await em.find(
      UserProfit,
      { user: userId, periodType: PeriodType.DAILY, periodStart: { $gte: since } },
      { ...WITHOUT_OWNER, orderBy: { periodStart: 'desc' } },
    );
    const sum = (pick: (r: UserProfit) => string) => formatDecimal(rows.reduce((acc, r) => acc.plus(pick(r)), new Decimal(0)));
    return {
      records: rows.map((r) => ({
        periodType: r.periodType,
        periodStart: r.periodStart,
        periodEnd: r.periodEnd,
        startingBalance: formatDecimal(r.startingBalance),
        endingBalance: formatDecimal(r.endingBalance),
        grossProfit: formatDecimal(r.grossProfit),
        feeRate: Number(r.feeRate),
        platformFee: formatDecimal(r.platformFee),
        netProfit: formatDecimal(r.netProfit),
      })),
      totalGrossProfit: sum((r) => r.grossProfit),
      totalPlatformFee: sum((r) => r.platformFee),
      totalNetProfit: sum((r) => r.netProfit),
    };
  }

  async invoicesOf(em: EntityManager, userId: string): Promise<InvoiceView[]> {
    const rows = await em.find(Invoice, { user: userId }, { ...WITHOUT_OWNER, orderBy: { periodStart: 'desc' } });
    return rows.map((r) => ({
      id: r.id,
      userId,
      periodStart: r.periodStart,
      periodEnd: r.periodEnd,
      plan: r.plan,
      subscriptionFee: formatDecimal(r.subscriptionFee),
      profitShareFee: formatDecimal(r.profitShareFee),
      total: formatDecimal(r.total),
      status: r.status,
      lines: (r.lines ?? []).flatMap((line) =>
        typeof line.description === 'string' && line.amount !== undefined
          ? [{ description: line.description, amount: formatDecimal(String(line.amount)), calculation: String(line.calculation ?? '') }]
          : [],
      ),
      dueAt: new Date(r.periodEnd.getTime() + DEFAULT_DUE_DAYS * 86_400_000),
      paidAt: null,
      paymentReference: null,
      createdAt: r.createdAt,
    }));
  }
}
