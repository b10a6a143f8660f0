import { SubscriptionPlan } from '../../src/entities/enums';
import { draftInvoice, type UnbilledDay } from '../../src/services/billing/invoice-draft';
import type { PlanSegment } from '../../src/services/billing/plan-history';

const utc = (iso: string) => new Date(`${iso}T00:00:00Z`);
const segment = (plan: SubscriptionPlan, from: string, to: string): PlanSegment => ({
  userId: 'u', plan, from: utc(from), to: utc(to), days: (utc(to).getTime() - utc(from).getTime()) / 86_400_000,
});
const day = (iso: string, plan: SubscriptionPlan, rate: string, gross: string, fee: string, hwm?: { billable: string; before: string; cumulative: string }): UnbilledDay => ({
  id: iso, day: utc(iso), plan, rate, gross, fee,
  billable: hwm?.billable ?? (gross.startsWith('-') ? '0' : gross),
  highWaterMark: hwm ? { before: hwm.before, cumulative: hwm.cumulative } : null,
});

/** The invoice's lines and amounts, golden: what a user checks by hand. */
describe('an invoice draft', () => {
  it('prorates the subscription by the days on each plan and sums the month\'s daily fees (losses not carried), to the cent', () => {
    const march = utc('2026-03-01');
    const draft = draftInvoice(
      march,
      [segment(SubscriptionPlan.FREE, '2026-03-01', '2026-03-16'), segment(SubscriptionPlan.PRO, '2026-03-16', '2026-04-01')],
      [
        day('2026-03-02', SubscriptionPlan.FREE, '0.3', '120.5', '36.15'),
        day('2026-03-03', SubscriptionPlan.FREE, '0.3', '-80', '0'),
        day('2026-03-20', SubscriptionPlan.PRO, '0.1', '10.0045', '1.00045'),
      ],
      SubscriptionPlan.PRO,
    );
    expect(draft.plan).toBe(SubscriptionPlan.PRO);
    // 99 × 16 / 31 = 51.096774… → 51.10; 36.15 + 1.00045 = 37.15045 → 37.15
    expect([draft.subscriptionFee.toFixed(2), draft.profitShareFee.toFixed(2), draft.total.toFixed(2)]).toEqual(['51.10', '37.15', '88.25']);
    expect(draft.lines).toEqual([
      {
        kind: 'SUBSCRIPTION', plan: 'FREE', description: 'FREE plan, 2026-03-01 to 2026-03-15 (15 of 31 days)', amount: '0.00',
        calculation: '0.00 USD a month × 15 / 31 days = 0.00',
      },
      {
        kind: 'SUBSCRIPTION', plan: 'PRO', description: 'PRO plan, 2026-03-16 to 2026-03-31 (16 of 31 days)', amount: '51.10',
        calculation: '99.00 USD a month × 16 / 31 days = 51.10 (51.096774…, rounded to the cent)',
      },
      {
        kind: 'PROFIT_SHARE', description: 'Profit share, March 2026', amount: '37.15',
        calculation:
          '2026-03-02: 30 % of 120.5 = 36.15; 2026-03-20: 10 % of 10.0045 = 1.00045; ' +
          'no fee on 2026-03-03 (gross -80): a day without a gain is not billed and its loss is not carried forward; ' +
          'sum 37.15045 = 37.15 (rounded to the cent, half up)',
      },
    ]);
  });

  it('a whole month on BASIC bills 29.00; a day settled late from the month before is billed once, named as such', () => {
    const draft = draftInvoice(
      utc('2026-02-01'),
      [segment(SubscriptionPlan.BASIC, '2026-02-01', '2026-03-01')],
      [day('2026-01-31', SubscriptionPlan.BASIC, '0.2', '12.5', '2.5')],
      SubscriptionPlan.BASIC,
    );
    expect(draft.lines.map((l) => [l.description, l.amount, l.calculation])).toEqual([
      ['BASIC plan, 2026-02-01 to 2026-02-28 (28 of 28 days)', '29.00', '29.00 USD a month × 28 / 28 days = 29.00'],
      ['Profit share, February 2026 (and earlier days settled late)', '2.50', '2026-01-31: 20 % of 12.5 = 2.5; sum 2.5 = 2.50'],
    ]);
    expect(draft.total.toFixed(2)).toBe('31.50');
  });

  it('in high-water-mark mode each day shows the mark it was billed above', () => {
    const draft = draftInvoice(
      utc('2026-11-01'),
      [segment(SubscriptionPlan.PRO, '2026-11-01', '2026-12-01')],
      [
        day('2026-11-02', SubscriptionPlan.PRO, '0.1', '500', '50', { billable: '500', before: '0', cumulative: '500' }),
        day('2026-11-03', SubscriptionPlan.PRO, '0.1', '-200', '0', { billable: '0', before: '500', cumulative: '300' }),
        day('2026-11-04', SubscriptionPlan.PRO, '0.1', '299.25', '9.925', { billable: '99.25', before: '500', cumulative: '599.25' }),
      ],
      SubscriptionPlan.PRO,
    );
    expect(draft.lines[1]).toEqual({
      kind: 'PROFIT_SHARE', description: 'Profit share, November 2026', amount: '59.93',
      calculation:
        '2026-11-02: 10 % of 500, the gain above the high-water mark 0 (cumulative result 500) = 50; ' +
        '2026-11-04: 10 % of 99.25, the gain above the high-water mark 500 (cumulative result 599.25) = 9.925; ' +
        'no fee on 2026-11-03 (gross -200): the cumulative result stayed at or below the high-water mark; ' +
        'sum 59.925 = 59.93 (rounded to the cent, half up)',
    });
  });
});
