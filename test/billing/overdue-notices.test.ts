import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JobScheduler, type EnqueueOptions, type JobQueue } from '../../src/jobs/job-scheduler';
import { OverdueNotices } from '../../src/services/billing/overdue-notices';
import { MailService } from '../../src/services/mail.service';
import { MailRenderer } from '../../src/services/notifications/mail-renderer';
import { NotificationService, SEND_MAIL_TASK } from '../../src/services/notifications/notification.service';
import { LogCapture } from '../support/log-capture';
import { createLogger } from '../../src/config/logger';
import { createMigratedOrm } from '../support/test-database';
import { addUser, SetClock, utc } from './billing-kit';

/** A queue that fails the way a dropped connection or a full disk does, before or after the job was written. */
class BrokenQueue implements JobQueue {
  constructor(private readonly real: JobQueue, private readonly fail: 'before' | 'after') {}
  async enqueue(task: string, payload: Record<string, unknown>, options?: EnqueueOptions): Promise<void> {
    if (this.fail === 'before') throw new Error('the job queue is unavailable');
    await this.real.enqueue(task, payload, options);
    throw new Error('the connection dropped after the job was written');
  }
}

/** The hourly overdue notice against a real PostgreSQL and the real job queue: the mark and the mail's job commit together. */
describe('overdue invoice notices', () => {
  let db: Awaited<ReturnType<typeof createMigratedOrm>>;
  let jobs: JobScheduler;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'overdue-'));
  const logs = new LogCapture();
  const logger = createLogger('debug', logs);
  const clock = new SetClock(utc('2026-05-20T10:00'));
  beforeAll(async () => {
    db = await createMigratedOrm('overdue');
    // The worker runs no mail task here: queued mails stay in the queue for the assertions.
    jobs = new JobScheduler({ connectionString: db.db.url, logger, pollIntervalMs: 60_000 });
    await jobs.start();
  });
  afterAll(async () => {
    await jobs.stop();
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const noticesVia = (queue: JobQueue) => {
    const notifier = new NotificationService({
      queue,
      mail: new MailService({ from: 'billing@example.com', dataDir }, logger),
      renderer: new MailRenderer(),
      orm: db.orm,
      logger,
      publicUrl: 'http://127.0.0.1:1',
      sealer: { encrypt: (text) => Buffer.from(text).toString('base64'), decrypt: (text) => Buffer.from(text, 'base64').toString() },
    });
    return new OverdueNotices({ orm: db.orm, notifier, clock, logger });
  };
  const sql = <T = any>(text: string, params: unknown[] = []) => db.orm.em.fork().execute<T[]>(text, params);
  const overdueInvoice = async () => {
    const userId = await addUser(db.orm, { plan: 'BASIC' });
    const id = randomUUID();
    await sql(
      `insert into invoices (id, user_id, period_start, period_end, plan, subscription_fee, profit_share_fee, total, status, lines, due_at, created_at, updated_at)
       values (?, ?, ?, ?, 'BASIC', 29, 0, 29, 'OPEN', '[]', ?, ?, ?)`,
      [id, userId, utc('2026-04-01'), utc('2026-05-01'), utc('2026-05-15T01:00'), utc('2026-05-01T01:00'), utc('2026-05-01T01:00')],
    );
    return { id, userId };
  };
  const markOf = async (id: string) => (await sql(`select overdue_notified_at from invoices where id = ?`, [id]))[0].overdue_notified_at;
  const mailJobsFor = async (userId: string) =>
    sql(
      `select j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
       where t.identifier = ? and j.payload->>'userId' = ?`,
      [SEND_MAIL_TASK, userId],
    );

  it('leaves an invoice unmarked when its mail cannot be queued, and tells its owner on the next run', async () => {
    const invoice = await overdueInvoice();
    expect(await noticesVia(new BrokenQueue(jobs, 'before')).run()).toEqual({ notified: 0, failed: 1 });
    expect(await markOf(invoice.id)).toBeNull();
    expect(logs.text()).toContain('overdue mail not queued; the invoice is told again next run');

    expect(await noticesVia(jobs).run()).toEqual({ notified: 1, failed: 0 });
    expect(await markOf(invoice.id)).not.toBeNull();
    expect((await mailJobsFor(invoice.userId)).map((j) => j.payload.kind)).toEqual(['invoice-overdue']);
    // Told once: the next runs find nothing to tell.
    expect(await noticesVia(jobs).run()).toEqual({ notified: 0, failed: 0 });
    expect(await mailJobsFor(invoice.userId)).toHaveLength(1);
  });

  it('queues the mail in the transaction that marks the invoice: a failure after the job was written keeps neither', async () => {
    const invoice = await overdueInvoice();
    expect(await noticesVia(new BrokenQueue(jobs, 'after')).run()).toEqual({ notified: 0, failed: 1 });
    expect(await markOf(invoice.id)).toBeNull();
    expect(await mailJobsFor(invoice.userId)).toEqual([]);

    expect(await noticesVia(jobs).run()).toEqual({ notified: 1, failed: 0 });
    expect(await mailJobsFor(invoice.userId)).toHaveLength(1);
  });
});
