import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../engine/ports';
import type { SubscriptionPlan } from '../../entities/enums';
import type { AuditService } from '../audit.service';
import { addDays, addMonths, monthName, startOfUtcMonth } from './billing-calendar';
import type { BillingNotifier } from './billing-notifier';
import { takeBillingLock, type DailySettlement, type SettlementRunBy } from './daily-settlement';
import { draftInvoice, type UnbilledDay } from './invoice-draft';
import { uuidArray } from './sql-arrays';
import type { PlanHistory, PlanSegment } from './plan-history';

export interface IssueResult {
  month: Date;
  issued: number;
  invoiceIds: string[];
}

interface UnbilledRow {
  id: string;
  user_id: string;
  period_start: string;
  plan: SubscriptionPlan;
  fee_rate: string;
  gross_profit: string;
  platform_fee: string;
  billable: string;
  cumulative_gross: string | null;
  high_water_mark_before: string | null;
}

/**
 * The monthly invoices. Settles the month's days again first (the invoice
 * bills what the ledger holds when it is issued), then, in one transaction
 * under the billing lock: one invoice per customer who has something to pay
 * and no invoice for that month yet, each settled day it bills linked to it so
 * no day is ever billed twice. Then one mail per invoice, queued.
 */
export class InvoiceIssuer {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      settlement: DailySettlement;
      history: PlanHistory;
      notifier: BillingNotifier;
      audit: AuditService;
      clock: Clock;
      dueDays: number;
      logger: Logger;
    },
  ) {}

  /** The month starting at `month` (the caller checked it is a 1st at 00:00 UTC and over). */
  async issue(month: Date, by: SettlementRunBy): Promise<IssueResult> {
    const end = addMonths(month, 1);
    await this.deps.settlement.settleMonth(month, end);
    const em = this.deps.orm.em.fork();
    const result = await em.transactional(async (tx) => {
      await takeBillingLock(tx);
      const issued = await this.issueLocked(tx, month, end);
      await tx.execute(
        `insert into billing_closings (id, kind, period_start, final, runs, detail, updated_at) values (gen_random_uuid(), 'MONTH', ?, true, 1, ?, now())
         on conflict (kind, period_start) do update set runs = billing_closings.runs + 1, detail = excluded.detail, updated_at = now()`,
        [month, JSON.stringify({ issued: issued.length })],
      );
      this.deps.audit.record(tx, {
        action: by.actorId ? 'admin.issue_invoices' : 'billing.issue_invoices',
        actorId: by.actorId,
        ip: by.ip ?? null,
        detail: `${monthName(month)}: ${issued.length} invoices issued`,
      });
      return { month, issued: issued.length, invoiceIds: issued };
    });
    for (const id of result.invoiceIds) {
      await this.deps.notifier.invoiceIssued(id).catch((err: unknown) =>
        this.deps.logger.error({ invoiceId: id, err: (err as Error).message }, 'invoice mail not queued'),
      );
    }
    return result;
  }

  /**
   * The monthly job (on the 1st and at every start): every month over since
   * the last one issued, oldest first, so a 1st missed by the whole cluster is
   * caught up. With none issued yet: from the month of the first settled day
   * (billing's first month), or just the previous month on a deployment that
   * has settled nothing.
   */
  async issueDue(): Promise<IssueResult[]> {
    const current = startOfUtcMonth(this.deps.clock.now());
    const [known] = await this.deps.orm.em.fork().execute<Array<{ issued: string | null; settled: string | null }>>(
      `select (select max(period_start) from billing_closings where kind = 'MONTH' and period_start < ?) as issued,
              (select min(period_start) from billing_closings where kind = 'DAY' and final) as settled`,
      [current],
    );
    const previous = addMonths(current, -1);
    let month = previous;
    if (known?.issued) month = addMonths(new Date(known.issued), 1);
    else if (known?.settled && startOfUtcMonth(new Date(known.settled)) < previous) month = startOfUtcMonth(new Date(known.settled));
    const results: IssueResult[] = [];
    for (; month < current; month = addMonths(month, 1)) results.push(await this.issue(month, { actorId: null }));
    return results;
  }

  private async issueLocked(tx: EntityManager, month: Date, end: Date): Promise<string[]> {
    const now = this.deps.clock.now();
    // Operators are staff, not customers: an admin account is never invoiced.
    const users = await tx.execute<Array<{ id: string; subscription: SubscriptionPlan }>>(
      `select u.id, u.subscription from users u
       where u.role <> 'ADMIN' and u.created_at < ?
         and not exists (select 1 from invoices i where i.user_id = u.id and i.period_start = ?)`,
      [end, month],
    );
    if (users.length === 0) return [];
    const ids = users.map((u) => u.id);
    const segments = groupBy(await this.deps.history.segments(tx, month, end, ids), (s: PlanSegment) => s.userId);
    // Locked with the lock held: the days summed are exactly the days linked below.
    const unbilled = groupBy(
      await tx.execute<UnbilledRow[]>(
        `select id, user_id, period_start, plan, fee_rate, gross_profit, platform_fee, billable, cumulative_gross, high_water_mark_before from user_profits
         where period_type = 'DAILY' and final and invoice_id is null and period_start < ? and user_id = any(?::uuid[])
         order by user_id, period_start for update`,
        [end, uuidArray(ids)],
      ),
      (r: UnbilledRow) => r.user_id,
    );
    const invoices: Array<Record<string, unknown>> = [];
    const links: Array<{ id: string; invoice_id: string }> = [];
    for (const user of users) {
      const days: UnbilledDay[] = (unbilled.get(user.id) ?? []).map((r) => ({
        id: r.id, day: new Date(r.period_start), plan: r.plan, rate: r.fee_rate, gross: r.gross_profit, fee: r.platform_fee, billable: r.billable,
        highWaterMark: r.high_water_mark_before === null ? null : { before: r.high_water_mark_before, cumulative: r.cumulative_gross ?? '0' },
      }));
      const draft = draftInvoice(month, segments.get(user.id) ?? [], days, user.subscription);
      // Nothing to pay, nothing to send: a customer is not asked to pay 0.00 (their days wait for a later invoice).
      if (!draft.total.gt(0)) continue;
      const id = randomUUID();
      invoices.push({
        id, user_id: user.id, plan: draft.plan, subscription_fee: draft.subscriptionFee.toFixed(), profit_share_fee: draft.profitShareFee.toFixed(),
        total: draft.total.toFixed(), lines: draft.lines,
      });
      for (const day of days) links.push({ id: day.id, invoice_id: id });
    }
    if (invoices.length === 0) return [];
    const inserted = await tx.execute<Array<{ id: string }>>(
      `insert into invoices (id, user_id, period_start, period_end, plan, subscription_fee, profit_share_fee, total, status, lines, due_at, created_at, updated_at)
       select x.id, x.user_id, ?, ?, x.plan, x.subscription_fee, x.profit_share_fee, x.total, 'OPEN', x.lines, ?, ?, ?
       from jsonb_to_recordset(?::jsonb) as x(id uuid, user_id uuid, plan text, subscription_fee numeric, profit_share_fee numeric, total numeric, lines jsonb)
       on conflict (user_id, period_start) do nothing
       returning id`,
      [month, end, addDays(now, this.deps.dueDays), now, now, JSON.stringify(invoices)],
    );
    const issued = new Set(inserted.map((r) => r.id));
    await tx.execute(
      `update user_profits p set invoice_id = x.invoice_id, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as x(id uuid, invoice_id uuid)
       where p.id = x.id and p.invoice_id is null`,
      [JSON.stringify(links.filter((l) => issued.has(l.invoice_id)))],
    );
    return [...issued];
  }
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const row of rows) {
    const group = out.get(key(row));
    if (group) group.push(row);
    else out.set(key(row), [row]);
  }
  return out;
}
