import { PLAN_RULES } from '../../domain/plans';
import type { PlanChangeNotice } from './billing-notifier';
import { escapeHtml } from './html-escape';
import type { RenderedMail } from './invoice-mail.template';

/** The "plan changed" mail, plain text and HTML. */
export function planChangedMail(notice: PlanChangeNotice): RenderedMail {
  const rules = PLAN_RULES[notice.to];
  const facts = [
    `Your plan is now ${notice.to} (it was ${notice.from}).`,
    `${notice.to}: ${rules.monthlyFee.toFixed(2)} USD a month, prorated by the days on it, ${rules.profitShareRate.times(100).toString()} % of each profitable day, ` +
      `positions up to ${rules.maxPositionPct.times(100).toString()} % of your equity.`,
    'The new plan governs billing from the next UTC day on.',
  ];
  if (notice.maxPositionPct) {
    facts.push(`Your position size setting was lowered from ${notice.maxPositionPct.from} to ${notice.maxPositionPct.to}, the ${notice.to} plan's cap.`);
  }
  return {
    subject: `Your plan changed to ${notice.to}`,
    text: facts.join('\n'),
    html: facts.map((f) => `<p>${escapeHtml(f)}</p>`).join(''),
  };
}
