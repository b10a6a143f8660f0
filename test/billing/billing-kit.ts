import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createLogger } from '../../src/config/logger';
import type { Clock } from '../../src/engine/ports';
import { AuditService } from '../../src/services/audit.service';
import { DailySettlement } from '../../src/services/billing/daily-settlement';
import { ProfitTracker, type ProfitShareMode } from '../../src/services/billing/profit-tracker';

export const logger = createLogger('silent');

/** A clock the test sets. */
export class SetClock implements Clock {
  constructor(public at: Date) {}
  now(): Date {
    return this.at;
  }
}

export const utc = (iso: string) => new Date(iso.endsWith('Z') ? iso : `${iso}Z`);

export async function addUser(orm: MikroORM, opts: { plan?: string; createdAt?: string; role?: string } = {}): Promise<string> {
  const id = randomUUID();
  await orm.em.fork().execute(
    `insert into users (id, email, password_hash, role, status, subscription, email_verified_at, token_version, created_at, updated_at)
     values (?, ?, 'x', ?, 'ACTIVE', ?, ?, 0, ?, ?)`,
    [id, `billing-${id.slice(0, 8)}@example.com`, opts.role ?? 'USER', opts.plan ?? 'PRO', utc(opts.createdAt ?? '2026-01-01T00:00'), utc(opts.createdAt ?? '2026-01-01T00:00'), utc(opts.createdAt ?? '2026-01-01T00:00')],
  );
  return id;
}

export interface MovementSeed {
  kind: 'REALIZED_PNL' | 'COMMISSION' | 'FUNDING_FEE' | 'DEPOSIT' | 'WITHDRAWAL' | 'TRANSFER' | 'OTHER';
  amount: string;
  /** Defaults to the amount (USDT); null: not valued yet. */
  usdt?: string | null;
  asset?: string;
  at: string;
}

export async function addMovements(orm: MikroORM, userId: string, movements: MovementSeed[]): Promise<string[]> {
  const em = orm.em.fork();
  const ids: string[] = [];
  for (const m of movements) {
    const id = randomUUID();
    ids.push(id);
    await em.execute(
      `insert into account_movements (id, user_id, kind, raw_reason, asset, amount, usdt_value, external_id, source, occurred_at, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, 'ENGINE', ?, now())`,
      [id, userId, m.kind, m.kind, m.asset ?? 'USDT', m.amount, m.usdt === undefined ? m.amount : m.usdt, `seed:${id}`, utc(m.at)],
    );
  }
  return ids;
}

export async function addSnapshot(orm: MikroORM, userId: string, equity: string, at: string): Promise<void> {
  await orm.em.fork().execute(
    `insert into balance_snapshots (id, user_id, equity, wallet_balance, available_balance, unrealized_pnl, source, taken_at) values (?, ?, ?, ?, ?, 0, 'STREAM', ?)`,
    [randomUUID(), userId, equity, equity, equity, utc(at)],
  );
}

export async function addPlanChange(orm: MikroORM, userId: string, plan: string, at: string): Promise<void> {
  await orm.em.fork().execute(`insert into user_plan_history (id, user_id, plan, started_at, created_at) values (?, ?, ?, ?, now())`, [randomUUID(), userId, plan, utc(at)]);
}

export function settlementOn(orm: MikroORM, clock: Clock, mode: ProfitShareMode = 'daily'): DailySettlement {
  return new DailySettlement({ orm, tracker: new ProfitTracker(mode), audit: new AuditService(), clock, logger });
}

export interface DayRow {
  day: string;
  plan: string;
  start: string;
  end: string;
  gross: string;
  rate: string;
  fee: string;
  net: string;
  final: boolean;
}

/** The user's daily records as stored, amounts as PostgreSQL prints numeric(28,10). */
export async function daysOf(orm: MikroORM, userId: string): Promise<DayRow[]> {
  const rows = await orm.em.fork().execute<Array<Record<string, unknown>>>(
    `select period_start, plan, starting_balance, ending_balance, gross_profit, fee_rate, platform_fee, net_profit, final
     from user_profits where user_id = ? and period_type = 'DAILY' order by period_start`,
    [userId],
  );
  return rows.map((r) => ({
    day: new Date(r.period_start as string).toISOString().slice(0, 10),
    plan: r.plan as string,
    start: r.starting_balance as string,
    end: r.ending_balance as string,
    gross: r.gross_profit as string,
    rate: r.fee_rate as string,
    fee: r.platform_fee as string,
    net: r.net_profit as string,
    final: r.final as boolean,
  }));
}
