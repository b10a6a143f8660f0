import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../engine/ports';
import type { BillingNotifier } from './billing-notifier';

/**
 * Tells each owner, once, that an invoice went past its due date unpaid
 * (from then on their new OPENs are held back). Each invoice is claimed in
 * the statement that marks it, so two nodes or two runs never mail twice.
 */
export class OverdueNotices {
  constructor(private readonly deps: { orm: MikroORM; notifier: BillingNotifier; clock: Clock; logger: Logger }) {}

  async run(): Promise<{ notified: number }> {
    const rows = await this.deps.orm.em.fork().execute<Array<{ id: string }>>(
      `update invoices set overdue_notified_at = ?, updated_at = ?
        where status = 'OPEN' and due_at <= ? and overdue_notified_at is null
        returning id`,
      [this.deps.clock.now(), this.deps.clock.now(), this.deps.clock.now()],
    );
    for (const { id } of rows) {
      await this.deps.notifier.invoiceOverdue(id).catch((err: unknown) =>
        this.deps.logger.error({ invoiceId: id, err: (err as Error).message }, 'overdue mail not queued'),
      );
    }
    return { notified: rows.length };
  }
}
