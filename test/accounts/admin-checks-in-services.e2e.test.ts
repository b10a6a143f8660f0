import { Role, SignalAction } from '../../src/entities/enums';
import type { SignedInScope } from '../../src/services/scope';
import { signUp, type SignedInUser } from '../support/factories';
import { MailCapture } from '../support/mail-capture';
import { startTestApp, type TestApp } from '../support/test-app';

/** Admin operations refuse a user's scope in the service itself, past any resolver (deny by default, whoever calls). */
describe('admin checks inside the services', () => {
  let t: TestApp;
  const mail = new MailCapture();
  let alice: SignedInUser;
  let bob: SignedInUser;
  const sql = (query: string, params: unknown[] = []) =>
    t.app.services.orm.em.fork().getConnection().execute(query, params) as Promise<Array<Record<string, any>>>;
  const asUser = (user: SignedInUser): SignedInScope => ({
    em: t.app.services.orm.em.fork(),
    actor: { id: user.id, role: Role.USER, sessionId: 'service-test', expiresAt: new Date(Date.now() + 3600_000) },
    ip: '198.51.100.23',
  });

  beforeAll(async () => {
    t = await startTestApp({ env: { SMTP_URL: await mail.start() } });
    t.app.services.prices.set('BTCUSDT', '50000');
    alice = await signUp(t, mail);
    bob = await signUp(t, mail);
  });
  afterAll(async () => {
    await t.stop();
    await mail.stop();
  });

  it('refuses a user broadcasting a signal or storing a manual one, stores nothing and audits the refusal', async () => {
    const { signals } = t.app.services;
    await expect(signals.broadcast(asUser(alice), { action: SignalAction.OPEN_LONG, reason: 'by a user' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(signals.createManual(asUser(alice), { action: SignalAction.CLOSE }, '50000')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await sql('select id from signals')).toEqual([]);
    expect(await sql("select action from audit_logs where action = 'admin.broadcast_signal'")).toEqual([]);
    const denied = await sql("select actor_id, detail, ip from audit_logs where action = 'auth.forbidden' and user_id = ? order by created_at, id", [alice.id]);
    expect(denied).toEqual([
      { actor_id: alice.id, detail: expect.stringMatching(/^broadcastSignal: needs ADMIN/), ip: '198.51.100.23' },
      { actor_id: alice.id, detail: expect.stringMatching(/^manual signal: needs ADMIN/), ip: '198.51.100.23' },
    ]);
  });

  it("refuses a user lifting someone's risk lock, and writes no unlock", async () => {
    await expect(t.app.services.risk.unlock(asUser(alice), bob.id, 'let me trade')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(t.app.services.risk.unlock(asUser(alice), alice.id, 'my own')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await sql("select id from audit_logs where action = 'admin.unlock_risk'")).toEqual([]);
  });
});
