import type { SubscriptionPlan } from '../../entities/enums';

export interface PlanChangeNotice {
  from: SubscriptionPlan;
  to: SubscriptionPlan;
  /** Set when the downgrade lowered the stored position cap. */
  maxPositionPct: { from: string; to: string } | null;
}

/**
 * What billing tells users. Implemented for now by BillingMailer (queued
 * mails); the notifications module can implement it instead. Neither call may
 * fail or delay the action that caused it.
 */
export interface BillingNotifier {
  planChanged(userId: string, notice: PlanChangeNotice): Promise<void>;
  invoiceIssued(invoiceId: string): Promise<void>;
}
