import { randomUUID } from 'node:crypto';
import { OrderSide, User, Order } from '../../src/entities';
import { OWNER_FILTER } from '../../src/entities/owner-filter';
import { createMigratedOrm } from '../support/test-database';

describe('owner filter on user-owned entities', () => {
  let ctx: Awaited<ReturnType<typeof createMigratedOrm>>;
  const alice = randomUUID();
  const bob = randomUUID();

  beforeAll(async () => {
    ctx = await createMigratedOrm();
    const em = ctx.orm.em.fork();
    for (const id of [alice, bob]) {
      em.create(User, { id, email: `${id}@x.io`, passwordHash: 'x' });
      em.create(Order, { user: id, clientOrderId: `c-${id.slice(0, 8)}`, symbol: 'BTCUSDT', side: OrderSide.BUY, quantity: '0.001' });
    }
    await em.flush();
  });
  afterAll(() => ctx.close());

  it('fails loudly when a query has no user context', async () => {
    await expect(ctx.orm.em.fork().find(Order, {})).rejects.toThrow(/No arguments provided for filter 'owner'/);
  });

  it("scopes every query to the context user: Alice never sees Bob's orders", async () => {
    const em = ctx.orm.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId: alice });
    const orders = await em.find(Order, {});
    expect(orders.map((o) => o.user.id)).toEqual([alice]);
    expect(await em.findOne(Order, { user: bob })).toBeNull();
  });

  it('is turned off only explicitly', async () => {
    expect(await ctx.orm.em.fork().count(Order, {}, { filters: { owner: false } })).toBe(2);
  });
});
