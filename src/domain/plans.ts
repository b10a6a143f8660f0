import Decimal from 'decimal.js';
import { SubscriptionPlan, UserStatus } from '../entities/enums';

/** Days of FREE trading that verifying the email address starts. */
export const TRIAL_DAYS = 7;

/** What each plan allows and costs (PRD): position cap, profit share, monthly fee. */
export const PLAN_RULES: Record<SubscriptionPlan, { maxPositionPct: Decimal; profitShareRate: Decimal; monthlyFee: Decimal }> = {
  [SubscriptionPlan.FREE]: { maxPositionPct: new Decimal('0.05'), profitShareRate: new Decimal('0.30'), monthlyFee: new Decimal(0) },
  [SubscriptionPlan.BASIC]: { maxPositionPct: new Decimal('0.15'), profitShareRate: new Decimal('0.20'), monthlyFee: new Decimal(29) },
  [SubscriptionPlan.PRO]: { maxPositionPct: new Decimal('0.30'), profitShareRate: new Decimal('0.10'), monthlyFee: new Decimal(99) },
};

/** Why a user may not receive new OPEN signals under their plan, or null when entitled. */
export function planBlocker(user: { status: UserStatus; subscription: SubscriptionPlan; trialEndsAt: Date | null }, now: Date): string | null {
  if (user.subscription !== SubscriptionPlan.FREE) return null;
  if (!user.trialEndsAt) return 'free trial not started (verify the email address)';
  if (user.trialEndsAt <= now) return `free trial ended on ${user.trialEndsAt.toISOString().slice(0, 10)}; choose a paid plan to keep trading`;
  return null;
}
