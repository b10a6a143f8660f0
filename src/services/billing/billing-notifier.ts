import type { SubscriptionPlan } from '../../entities/enums';
import type { SqlRunner } from '../../jobs/job-scheduler';

export interface PlanChangeNotice {
  from: SubscriptionPlan;
  to: SubscriptionPlan;
  /** Set when the downgrade lowered the stored position cap. */
  maxPositionPct: { from: string; to: string } | null;
}

/**
 * What billing tells users; the notifications module implements it (queued
 * mails). No call may fail or delay the action that caused it, except one
 * given `within`: the caller's transaction, which then commits only with the
 * mail queued (a failure throws, so both roll back).
 */
export interface BillingNotifier {
  planChanged(userId: string, notice: PlanChangeNotice): Promise<void>;
  invoiceIssued(invoiceId: string): Promise<void>;
  invoiceOverdue(invoiceId: string, within?: SqlRunner): Promise<void>;
}
