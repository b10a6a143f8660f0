import { createServer, type AddressInfo } from 'node:net';
import { eventuallyExpect } from '../support/eventually';
import { signInAdmin } from '../support/factories';
import { startTestApp, type TestApp } from '../support/test-app';
import { addMovements, addUser } from './billing-kit';
import { ISSUE, startRunsDone } from './billing-e2e-kit';

const ADMIN = { email: 'outage-admin@example.com', password: 'outage admin password' };

/** A port nothing listens on: the mail server is down. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The mail server being down never stops or delays invoicing: the invoice is issued, its mail waits on the queue and retries. */
describe('invoicing while the mail server is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${await deadPort()}`, ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } });
    await startRunsDone(t);
  });
  afterAll(() => t.stop());

  it('issues the invoices and keeps retrying their mails', async () => {
    const admin = await signInAdmin(t, ADMIN.email, ADMIN.password);
    const user = await addUser(t.app.services.orm, { plan: 'BASIC', createdAt: '2025-12-01T00:00' });
    await addMovements(t.app.services.orm, user, [{ kind: 'REALIZED_PNL', amount: '10', at: '2026-01-10T10:00' }]);
    const res = await t.gql(ISSUE, { m: '2026-01-01T00:00:00Z' }, admin.accessToken);
    expect(res.data?.issueInvoices).toBe(1);
    const [invoice] = await t.app.services.orm.em.fork().execute<Array<{ id: string; status: string; total: string }>>(
      'select id, status, total from invoices where user_id = ? and period_start = ?', [user, '2026-01-01T00:00:00Z'],
    );
    // 29 + 20 % of 10
    expect(invoice).toMatchObject({ status: 'OPEN', total: '31.0000000000' });
    // The mail job waits on the queue, failing and retrying; its payload names the kind and the user, the rest is sealed.
    await eventuallyExpect(async () => {
      const [job] = await t.app.services.orm.em.fork().execute<Array<{ attempts: number; last_error: string | null; payload: Record<string, unknown> }>>(
        `select j.attempts, j.last_error, j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'notifications.send-mail' and j.payload->>'kind' = 'invoice-issued'`,
      );
      expect(job).toMatchObject({ payload: { kind: 'invoice-issued', userId: user }, last_error: expect.stringMatching(/ECONNREFUSED/) });
      expect(job.attempts).toBeGreaterThanOrEqual(1);
      expect(JSON.stringify(job.payload)).not.toContain(invoice.id);
    });
  });
});
