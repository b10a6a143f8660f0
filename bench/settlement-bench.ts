import pino from 'pino';
import { systemWallClock } from '../src/engine/ports';
import { AuditService } from '../src/services/audit.service';
import { DailySettlement } from '../src/services/billing/daily-settlement';
import { ProfitTracker } from '../src/services/billing/profit-tracker';
import { createBenchDatabase, type BenchDatabase } from './bench-database';
import { emit, median, note } from './bench-report';

const USERS = 10_000;
const TRADES_PER_USER = 50;
const RUNS = 3;
const DAY = '2026-03-02T00:00:00Z';

/**
 * The daily settlement of one day for 10,000 users with 50 trades each (a
 * realized PnL and a commission per trade, a funding payment, balance
 * snapshots around the day), seeded straight into a database of its own.
 * Printed beside it, in the same run, the bound: a plain
 * `select user_id, sum(usdt_value) … group by user_id` over the same rows.
 */
export async function benchSettlement(): Promise<void> {
  const db = await createBenchDatabase();
  try {
    await seed(db);
    const em = () => db.orm.em.fork();
    const settlement = new DailySettlement({
      orm: db.orm, tracker: new ProfitTracker('daily'), audit: new AuditService(), clock: systemWallClock, logger: pino({ level: 'silent' }),
    });
    const bound: number[] = [];
    const settle: number[] = [];
    let settled = 0;
    for (let run = 0; run < RUNS; run++) {
      let started = performance.now();
      await em().execute(
        `select user_id, sum(usdt_value) from account_movements where occurred_at >= ?::timestamptz and occurred_at < ?::timestamptz + interval '1 day' group by user_id`,
        [DAY, DAY],
      );
      bound.push(performance.now() - started);
      await em().execute('truncate user_profits, billing_closings, profit_deferrals');
      started = performance.now();
      settled = (await settlement.settle(new Date(DAY), { actorId: null })).settled;
      settle.push(performance.now() - started);
    }
    // The same day again with nothing new in the ledger: what the nightly refresh of the last days costs.
    const again = performance.now();
    const unchanged = (await settlement.settle(new Date(DAY), { actorId: null })).settled;
    const againMs = performance.now() - again;

    note(`settlement: ${USERS} users × ${TRADES_PER_USER} trades (${USERS * (TRADES_PER_USER * 2 + 1)} movements) on one day, ${settled} users settled; target ≤ 2000 ms; median of ${RUNS}`);
    const boundMs = median(bound);
    emit({ name: 'settle-day-10k-users', value: median(settle), unit: 'ms', bound: boundMs });
    emit({ name: 'settle-day-10k-users-again-unchanged', value: againMs, unit: 'ms', bound: boundMs });
    if (unchanged !== 0) note(`settlement: the unchanged second run wrote ${unchanged} records (expected 0)`);
  } finally {
    await db.close();
  }
}

export async function seed(db: BenchDatabase): Promise<void> {
  const em = db.orm.em.fork();
  await em.execute(
    `insert into users (id, email, password_hash, role, status, subscription, email_verified_at, token_version, created_at, updated_at)
     select gen_random_uuid(), 'settle-' || n || '@bench.invalid', 'not-a-login', 'USER', 'ACTIVE',
            (array['FREE', 'BASIC', 'PRO'])[1 + n % 3], now(), 0, '2026-01-01', '2026-01-01'
     from generate_series(1, ?) as n`,
    [USERS],
  );
  // Per user and trade: its realized PnL (some lose) and its commission, spread over the day; one funding payment each.
  await em.execute(
    `insert into account_movements (id, user_id, kind, raw_reason, asset, amount, usdt_value, symbol, trade_id, external_id, source, occurred_at, created_at)
     select gen_random_uuid(), u.id, k.kind, k.kind, 'USDT', k.amount, k.amount, 'BTCUSDT', t::text, k.kind || ':BTCUSDT:' || t, 'STREAM',
            ?::timestamptz + (t * interval '28 minutes'), now()
     from users u
     cross join generate_series(1, ?) as t
     cross join lateral (values ('REALIZED_PNL', round(((random() - 0.45) * 100)::numeric, 4)), ('COMMISSION', -round((random() * 2)::numeric, 4))) as k(kind, amount)`,
    [DAY, TRADES_PER_USER],
  );
  await em.execute(
    `insert into account_movements (id, user_id, kind, raw_reason, asset, amount, usdt_value, symbol, external_id, source, occurred_at, created_at)
     select gen_random_uuid(), u.id, 'FUNDING_FEE', 'FUNDING_FEE', 'USDT', -0.75, -0.75, 'BTCUSDT', 'income:funding:' || u.id, 'RECONCILE', ?::timestamptz + interval '16 hours', now()
     from users u`,
    [DAY],
  );
  await em.execute(
    `insert into balance_snapshots (id, user_id, equity, wallet_balance, available_balance, unrealized_pnl, source, taken_at)
     select gen_random_uuid(), u.id, 10000, 10000, 10000, 0, 'DAILY', ?::timestamptz - s.at
     from users u cross join (values (interval '1 hour'), (interval '-23 hours')) as s(at)`,
    [DAY],
  );
  await em.execute('vacuum analyze');
}
