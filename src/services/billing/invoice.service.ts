import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Clock } from '../../engine/ports';
import { InvoiceStatus } from '../../entities/enums';
import { Invoice } from '../../entities/invoice.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import { badInput, conflict, notFound } from '../../errors/app-error';
import type { AuditService } from '../audit.service';
import { isUuid } from '../ids';
import { afterCursor, decodeCursor, pageSize, toPage } from '../pagination';
import type { SignedInScope } from '../scope';
import { assertAdmin } from '../access';
import { addMonths, isUtcMonthStart, monthName } from './billing-calendar';
import { toInvoiceView, type InvoiceView } from './billing-views';
import type { InvoiceIssuer } from './invoice-issuer';
import type { PaymentRecorder } from './payment-recorder';

const MAX_REFERENCE = 200;
const MAX_REASON = 500;
/** Ten years of monthly invoices. */
const MAX_LISTED = 120;

export interface InvoiceFilter {
  status?: InvoiceStatus | null;
  userId?: string | null;
  first?: number | null;
  after?: string | null;
}

/** Invoices as the user and the admin see and handle them. */
export class InvoiceService {
  constructor(private readonly deps: { issuer: InvoiceIssuer; payments: PaymentRecorder; audit: AuditService; clock: Clock }) {}

  /** The signed-in user's own invoices, newest month first. */
  async mine(scope: SignedInScope): Promise<InvoiceView[]> {
    const rows = await scope.em.find(Invoice, { user: scope.actor.id }, { orderBy: { periodStart: 'desc' }, limit: MAX_LISTED });
    return rows.map(toInvoiceView);
  }

  /** Admin console (user detail): one user's invoices; `em` is the admin's. */
  async invoicesOf(em: EntityManager, userId: string): Promise<InvoiceView[]> {
    if (!isUuid(userId)) return [];
    const rows = await em.fork().find(Invoice, { user: userId }, { ...WITHOUT_OWNER, orderBy: { periodStart: 'desc' }, limit: MAX_LISTED });
    return rows.map(toInvoiceView);
  }

  /** Admin: every invoice, newest first, by status and user. */
  async list(scope: SignedInScope, filter: InvoiceFilter): Promise<{ items: InvoiceView[]; nextCursor: string | null }> {
    assertAdmin(scope);
    const size = pageSize(filter.first, 50);
    if (filter.userId && !isUuid(filter.userId)) throw badInput('userId is not a valid user id', 'userId');
    const rows = await scope.em.find(
      Invoice,
      {
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.userId ? { user: filter.userId } : {}),
        ...afterCursor(decodeCursor(filter.after), 'createdAt'),
      },
      { ...WITHOUT_OWNER, orderBy: { createdAt: 'desc', id: 'desc' }, limit: size + 1 },
    );
    const page = toPage(rows, size, (i) => i.createdAt);
    return { items: page.items.map(toInvoiceView), nextCursor: page.nextCursor };
  }

  /** Admin: the invoices of the month starting at `month` (a 1st, 00:00 UTC), once it is over; a second run issues nothing new. */
  async issue(scope: SignedInScope, month: Date): Promise<number> {
    assertAdmin(scope);
    if (!isUtcMonthStart(month)) throw badInput('month must be the first day of a month at 00:00 UTC, e.g. 2026-03-01T00:00:00Z', 'month');
    if (addMonths(month, 1) > this.deps.clock.now()) throw badInput(`${monthName(month)} is not over yet: its invoices are issued once it ends`, 'month');
    return (await this.deps.issuer.issue(month, { actorId: scope.actor.id, ip: scope.ip })).issued;
  }

  async markPaid(scope: SignedInScope, id: string, reference: string | null | undefined): Promise<InvoiceView> {
    assertAdmin(scope);
    const ref = reference?.trim() || null;
    if (ref && ref.length > MAX_REFERENCE) throw badInput(`reference must be at most ${MAX_REFERENCE} characters`, 'reference');
    const invoice = await this.deps.payments.recordPayment({ invoiceId: id, reference: ref, source: 'ADMIN', actorId: scope.actor.id, ip: scope.ip });
    return toInvoiceView(invoice);
  }

  /** Admin: writes an open invoice off (it no longer holds the user back); a paid one cannot be voided. */
  async void(scope: SignedInScope, id: string, reason: string): Promise<InvoiceView> {
    assertAdmin(scope);
    const why = reason.trim();
    if (!why || why.length > MAX_REASON) throw badInput(`reason must say why, in at most ${MAX_REASON} characters`, 'reason');
    if (!isUuid(id)) throw notFound('Invoice');
    const invoice = await scope.em.fork().transactional(async (tx) => {
      const row = await tx.findOne(Invoice, { id }, { ...WITHOUT_OWNER, lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!row) throw notFound('Invoice');
      if (row.status === InvoiceStatus.PAID) throw conflict('This invoice is paid: it cannot be voided');
      if (row.status === InvoiceStatus.VOID) return row;
      const now = this.deps.clock.now();
      row.status = InvoiceStatus.VOID;
      row.voidedAt = now;
      row.voidReason = why;
      row.updatedAt = now;
      this.deps.audit.record(tx, { action: 'admin.void_invoice', userId: row.user.id, actorId: scope.actor.id, ip: scope.ip, detail: `invoice ${row.id}: ${why}` });
      return row;
    });
    return toInvoiceView(invoice);
  }
}
