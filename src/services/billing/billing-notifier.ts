import type { SubscriptionPlan } from '../../entities/enums';

export interface PlanChangeNotice {
  from: SubscriptionPlan;
  to: SubscriptionPlan;
  /** Set when the downgrade lowered the stored position cap. */
  maxPositionPct: { from: string; to: string } | null;
}

/**
 * What billing tells users; the notifications module implements it (queued
 * mails). No call may fail or delay the action that caused it.
 */
export interface BillingNotifier {
  planChanged(userId: string, notice: PlanChangeNotice): Promise<void>;
  invoiceIssued(invoiceId: string): Promise<void>;
  invoiceOverdue(invoiceId: string): Promise<void>;
}
