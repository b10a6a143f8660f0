import type { EntityManager } from '@mikro-orm/postgresql';
import type { InvoiceView, ProfitSummaryView } from './billing/billing-views';

export type { InvoiceView, ProfitSummaryView };

/**
 * What the admin console reads of a user's billing. Billing owns profit and
 * invoices; this port lets the console show them without knowing how billing
 * stores them; billing's ProfitService and InvoiceService answer it (wired in app/services.ts).
 */
export interface BillingReader {
  /** The user's daily profit records of the last `days` days, with their totals. */
  profitOf(em: EntityManager, userId: string, days: number): Promise<ProfitSummaryView>;
  invoicesOf(em: EntityManager, userId: string): Promise<InvoiceView[]>;
}
