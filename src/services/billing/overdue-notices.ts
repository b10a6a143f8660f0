import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { Clock } from '../../engine/ports';
import type { BillingNotifier } from './billing-notifier';

/**
 * Tells each owner, once, that an invoice went past its due date unpaid
 * (from then on their new OPENs are held back). Per invoice, one transaction
 * claims it (the statement that marks it, so two nodes or two runs never mail
 * twice) and queues its mail: an invoice is marked only with its mail queued,
 * and one the queue refused stays unmarked for the next run.
 */
export class OverdueNotices {
  constructor(private readonly deps: { orm: MikroORM; notifier: BillingNotifier; clock: Clock; logger: Logger }) {}

  async run(): Promise<{ notified: number; failed: number }> {
    const now = this.deps.clock.now();
    const due = await this.deps.orm.em.fork().execute<Array<{ id: string }>>(
      `select id from invoices where status = 'OPEN' and due_at <= ? and overdue_notified_at is null order by due_at`,
      [now],
    );
    let notified = 0;
    let failed = 0;
    for (const { id } of due) {
      try {
        const claimed = await this.deps.orm.em.fork().transactional(async (tx) => {
          const rows = await tx.execute<Array<{ id: string }>>(
            `update invoices set overdue_notified_at = ?, updated_at = ?
              where id = ? and status = 'OPEN' and overdue_notified_at is null
              returning id`,
            [now, now, id],
          );
          if (rows.length === 0) return false;
          await this.deps.notifier.invoiceOverdue(id, tx);
          return true;
        });
        if (claimed) notified += 1;
      } catch (err) {
        failed += 1;
        this.deps.logger.error({ invoiceId: id, err: (err as Error).message }, 'overdue mail not queued; the invoice is told again next run');
      }
    }
    return { notified, failed };
  }
}
