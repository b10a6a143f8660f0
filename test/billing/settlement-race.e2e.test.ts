import { signInAdmin, type SignedInUser } from '../support/factories';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { addMovements, addUser } from './billing-kit';
import { ISSUE, SETTLE } from './billing-e2e-kit';

const ADMIN = { email: 'race-admin@example.com', password: 'race admin password' };
const USERS = 6;

/**
 * Two server nodes on one database: twenty settlements of one day fired at
 * once across both charge each user once, and ten invoice runs of one month
 * issue one invoice per user, each settled day billed once.
 */
describe('settlement and invoicing raced on two nodes', () => {
  let db: TestDatabase;
  let nodes: TestApp[];
  let admin: SignedInUser;
  const users: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password };
    nodes = [await startTestApp({ database: db, env }), await startTestApp({ database: db, env })];
    admin = await signInAdmin(nodes[0], ADMIN.email, ADMIN.password);
    const orm = nodes[0].app.services.orm;
    for (let i = 0; i < USERS; i++) {
      const user = await addUser(orm, { plan: 'PRO', createdAt: '2025-12-01T00:00' });
      // Day 1: 100 + i profit, 0.5 fee: a 10 % share of 99.5 + i. Day 2: a loss.
      await addMovements(orm, user, [
        { kind: 'REALIZED_PNL', amount: String(100 + i), at: '2026-01-15T10:00' },
        { kind: 'COMMISSION', amount: '-0.5', at: '2026-01-15T10:00' },
        { kind: 'REALIZED_PNL', amount: '-30', at: '2026-01-16T10:00' },
      ]);
      users.push(user);
    }
  });
  afterAll(async () => {
    for (const node of nodes) await node.stop();
    await db.drop();
  });

  const sql = (text: string, params: unknown[] = []) => nodes[0].app.services.orm.em.fork().execute<any[]>(text, params);

  it('twenty settleProfits of one day at once, ten per node, settle each user once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => nodes[i % 2].gql(SETTLE, { d: '2026-01-15T00:00:00Z' }, admin.accessToken)),
    );
    expect(runs.map((r) => r.errors)).toEqual(runs.map(() => undefined));
    expect(runs.reduce((sum, r) => sum + (r.data!.settleProfits as number), 0)).toBe(USERS);
    const rows = await sql(
      `select user_id, count(*)::int as n, sum(platform_fee) as fee from user_profits where period_start = '2026-01-15' group by user_id order by user_id`,
    );
    expect(rows).toHaveLength(USERS);
    expect(rows.every((r: { n: number }) => r.n === 1)).toBe(true);
    // Σ 10 % × (99.5 + i) for i = 0..5 = 10 % × 612 = 61.2
    expect((await sql(`select sum(platform_fee) as fee from user_profits where period_start = '2026-01-15'`))[0].fee).toBe('61.2000000000');
    expect((await sql(`select runs from billing_closings where kind = 'DAY' and period_start = '2026-01-15'`))[0].runs).toBe(20);
  });

  it('ten issueInvoices of one month at once across the nodes issue one invoice per user and bill every day once', async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, i) => nodes[i % 2].gql(ISSUE, { m: '2026-01-01T00:00:00Z' }, admin.accessToken)),
    );
    expect(runs.map((r) => r.errors)).toEqual(runs.map(() => undefined));
    expect(runs.reduce((sum, r) => sum + (r.data!.issueInvoices as number), 0)).toBe(USERS);
    const invoices = await sql(`select user_id, subscription_fee, profit_share_fee from invoices where period_start = '2026-01-01' order by user_id`);
    expect(invoices.map((i: { user_id: string }) => i.user_id)).toEqual([...users].sort());
    expect(invoices.every((i: { subscription_fee: string }) => i.subscription_fee === '99.0000000000')).toBe(true);
    // 10 % × (99.5 + i) = 9.95 + 0.1 i; the losing day billed nothing and is on the invoice too.
    expect(invoices.map((i: { profit_share_fee: string }) => i.profit_share_fee).sort()).toEqual(
      ['9.9500000000', '10.0500000000', '10.1500000000', '10.2500000000', '10.3500000000', '10.4500000000'].sort(),
    );
    expect(await sql(`select count(*)::int as n from user_profits where invoice_id is null and period_start < '2026-02-01'`)).toEqual([{ n: 0 }]);
  });
});
