import { login, signInAdmin, uniqueEmail, PASSWORD } from '../support/factories';
import { eventually } from '../support/eventually';
import { codeOf } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase } from '../support/test-database';
import { startTestApp, type TestApp } from '../support/test-app';

describe('starting nodes', () => {
  const mail = new MailCapture();
  let smtp: string;
  beforeAll(async () => {
    smtp = await mail.start();
  });
  afterAll(() => mail.stop());

  it('migrates one node at a time when several start together on a fresh database (advisory lock)', async () => {
    const db = await createTestDatabase();
    const nodes: TestApp[] = [];
    try {
      nodes.push(...(await Promise.all([1, 2, 3].map(() => startTestApp({ database: db })))));
      const conn = nodes[0].app.services.orm.em.getConnection();
      const [{ total, distinct }] = await conn.execute<Array<{ total: string; distinct: string }>>(
        'select count(*) as total, count(distinct name) as distinct from mikro_orm_migrations',
      );
      expect(Number(total)).toBeGreaterThan(0);
      expect(total).toBe(distinct);
      // One deployment: the same identity (and so the same Redis prefix) on every node.
      expect(new Set(nodes.map((t) => t.app.services.bus.channel('x'))).size).toBe(1);
      expect(nodes.map((t) => t.logs.text()).filter((l) => l.includes('applied pending migrations'))).toHaveLength(1);
    } finally {
      await Promise.all(nodes.map((t) => t.stop()));
      await db.drop();
    }
  });

  it('creates the admin from ADMIN_PASSWORD once, and never resets the password the admin chose afterwards', async () => {
    const db = await createTestDatabase();
    const email = uniqueEmail('boot-admin');
    const env = { SMTP_URL: smtp, ADMIN_EMAIL: email, ADMIN_PASSWORD: 'the bootstrap password' };
    const first = await startTestApp({ database: db, env });
    try {
      const admin = await signInAdmin(first, email, 'the bootstrap password');
      const changed = await first.gql('mutation { changePassword(currentPassword: "the bootstrap password", newPassword: "the admin\'s own password") }', {}, admin.accessToken);
      expect(changed.data!.changePassword).toBe(true);
    } finally {
      await first.stop();
    }
    const restarted = await startTestApp({ database: db, env });
    try {
      expect(codeOf(await login(restarted, email, 'the bootstrap password'))).toBe('UNAUTHENTICATED');
      const again = await login(restarted, email, "the admin's own password");
      expect(again.data!.login.user).toMatchObject({ role: 'ADMIN', status: 'ACTIVE' });
      expect(restarted.logs.text()).toMatch(/ADMIN_PASSWORD differs from the admin's password: left unchanged/);
    } finally {
      await restarted.stop();
      await db.drop();
    }
  });

  it('never writes a mail body (verification token) to a production log', async () => {
    const prod = await startTestApp({ env: { NODE_ENV: 'production', SMTP_URL: smtp } });
    try {
      const email = uniqueEmail('prod-mail');
      expect((await prod.gql('mutation($i: RegisterInput!) { register(input: $i) { id } }', { i: { email, password: PASSWORD } })).errors).toBeUndefined();
      const token = await mail.waitFor(email, /verifyEmail mutation with this token:\s+([A-Za-z0-9_-]{20,})/);
      // The mail is a job: its "mail sent" line follows the delivery.
      await eventually('the mail line', () => prod.logs.text().includes(email));
      expect(prod.logs.text()).not.toContain(token);
    } finally {
      await prod.stop();
    }
  });
});
