import { LockMode } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Clock } from '../../engine/ports';
import { InvoiceStatus } from '../../entities/enums';
import { Invoice } from '../../entities/invoice.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import { conflict, notFound } from '../../errors/app-error';
import { formatDecimal } from '../../schema/scalars';
import type { AuditService } from '../audit.service';
import { isUuid } from '../ids';

/** A payment of one invoice, whoever saw it: an admin today, a payment provider's notification later. */
export interface PaymentRecord {
  invoiceId: string;
  /** The payment's own reference (bank transfer, provider transaction id). */
  reference: string | null;
  /** Who reports it: 'ADMIN', or the provider's name. */
  source: string;
  actorId: string | null;
  ip: string | null;
}

/** The one way an invoice becomes PAID. */
export interface PaymentRecorder {
  recordPayment(payment: PaymentRecord): Promise<Invoice>;
}

/**
 * Records payments on the invoice row, locked, so a payment racing a void
 * (or a second payment) is decided once: a void invoice cannot be paid
 * (CONFLICT); recording the same payment again changes nothing; another
 * reference for a paid invoice is a CONFLICT.
 */
export class InvoicePayments implements PaymentRecorder {
  constructor(private readonly deps: { orm: MikroORM; audit: AuditService; clock: Clock }) {}

  async recordPayment(payment: PaymentRecord): Promise<Invoice> {
    if (!isUuid(payment.invoiceId)) throw notFound('Invoice');
    return this.deps.orm.em.fork().transactional(async (tx) => {
      const invoice = await tx.findOne(Invoice, { id: payment.invoiceId }, { ...WITHOUT_OWNER, lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!invoice) throw notFound('Invoice');
      if (invoice.status === InvoiceStatus.VOID) throw conflict('This invoice is void: it cannot be paid');
      if (invoice.status === InvoiceStatus.PAID) {
        if (payment.reference === null || payment.reference === invoice.paymentReference) return invoice;
        throw conflict(`This invoice is already paid (reference ${invoice.paymentReference ?? 'none'})`);
      }
      const now = this.deps.clock.now();
      invoice.status = InvoiceStatus.PAID;
      invoice.paidAt = now;
      invoice.paymentReference = payment.reference;
      invoice.paymentSource = payment.source;
      invoice.updatedAt = now;
      this.deps.audit.record(tx, {
        action: payment.actorId ? 'admin.mark_invoice_paid' : 'billing.invoice_paid',
        userId: invoice.user.id,
        actorId: payment.actorId,
        ip: payment.ip,
        detail: `invoice ${invoice.id} (${formatDecimal(invoice.total)} USD) paid${payment.reference ? `, reference ${payment.reference}` : ''}, recorded by ${payment.source}`,
      });
      return invoice;
    });
  }
}
