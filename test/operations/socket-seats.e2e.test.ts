import { MAX_SOCKETS_PER_USER } from '../../src/app/socket-server';
import { signUp, type SignedInUser } from '../support/factories';
import { connectSocket, type SocketClient } from '../support/graphql-client';
import { MailCapture } from '../support/mail-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startTestApp, TEST_REDIS_URL, type TestApp } from '../support/test-app';

/** One user's open sockets are capped across the cluster, not per node: ten in all, however they are spread. */
describe('the per-user socket cap on two nodes', () => {
  const mail = new MailCapture();
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let user: SignedInUser;
  const sockets: SocketClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { REDIS_URL: TEST_REDIS_URL, SMTP_URL: await mail.start() };
    a = await startTestApp({ database: db, env });
    b = await startTestApp({ database: db, env });
    user = await signUp(a, mail);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await a.stop();
    await b.stop();
    await db.drop();
    await mail.stop();
  });

  const open = async (node: TestApp, token = user.accessToken) => {
    const socket = connectSocket(node.url, token);
    sockets.push(socket);
    // An answered query proves the socket was accepted.
    const first = await Promise.race([socket.client.iterate({ query: '{ __typename }' }).next(), socket.closed]);
    return { socket, accepted: 'value' in first };
  };

  it('refuses the eleventh on either node (4429), frees a seat when one closes anywhere, and never counts another user', async () => {
    const onA = Math.ceil(MAX_SOCKETS_PER_USER / 2);
    const held: SocketClient[] = [];
    for (let i = 0; i < MAX_SOCKETS_PER_USER; i++) {
      const { socket, accepted } = await open(i < onA ? a : b);
      expect(accepted).toBe(true);
      held.push(socket);
    }
    for (const node of [a, b]) {
      const { socket, accepted } = await open(node);
      expect(accepted).toBe(false);
      expect((await socket.closed).code).toBe(4429);
    }
    // Another user is not counted with them.
    const other = await signUp(b, mail);
    expect((await open(a, other.accessToken)).accepted).toBe(true);

    // One closes on node A: node B may open one more.
    await held[0].dispose();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await open(b)).accepted).toBe(true);
    expect((await open(a)).accepted).toBe(false);
  });
});
