import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import type { BalanceChanged, FillRecorded, LedgerEvent, MovementRecorded, PositionClosed } from '../engine-events';

/** The ledger events risk judges: each is journaled in the transaction that stored its fact. */
export type JournaledEvent = FillRecorded | PositionClosed | BalanceChanged | MovementRecorded;

const DECIMALS: Record<JournaledEvent['type'], readonly string[]> = {
  FillRecorded: ['price', 'quantity', 'realizedPnl', 'commission', 'commissionUsdt'],
  PositionClosed: ['realizedPnl', 'commission', 'netPnl'],
  BalanceChanged: ['equity', 'walletBalance', 'unrealizedPnl'],
  MovementRecorded: ['amount', 'usdtValue'],
};
const DATES: Record<JournaledEvent['type'], readonly string[]> = {
  FillRecorded: ['executedAt'],
  PositionClosed: ['openedAt', 'closedAt'],
  BalanceChanged: ['at'],
  MovementRecorded: ['occurredAt'],
};

export function isJournaled(event: LedgerEvent): event is JournaledEvent {
  return Object.hasOwn(DECIMALS, event.type);
}

/** Money as decimal strings, times as ISO strings (Decimal and Date serialise so). */
function encode(event: JournaledEvent): string {
  const { seq: _seq, ...rest } = event;
  return JSON.stringify(rest);
}

export function decodeJournaled(seq: string, type: JournaledEvent['type'], payload: Record<string, unknown>): JournaledEvent {
  const out: Record<string, unknown> = { ...payload, type, seq };
  for (const key of DECIMALS[type]) if (out[key] !== null && out[key] !== undefined) out[key] = new Decimal(out[key] as string);
  for (const key of DATES[type]) if (out[key] !== null && out[key] !== undefined) out[key] = new Date(out[key] as string);
  return out as unknown as JournaledEvent;
}

/**
 * ledger_journal: the transactional outbox between the ledger and risk. An
 * event is appended with its fact, emitted after the commit, and marked judged
 * in the transaction that applies it to the user's risk state; what a crash or
 * an outage left unjudged is handed to risk again, in order, once.
 */
export class Journal {
  /** Appends the journaled events among `events`, in order, each given its sequence number. */
  async append(tx: EntityManager, events: LedgerEvent[]): Promise<void> {
    for (const event of events) {
      if (!isJournaled(event)) continue;
      const [row] = await tx.execute<Array<{ seq: string }>>(
        'insert into ledger_journal (user_id, type, payload, created_at) values (?, ?, ?::jsonb, now()) returning seq',
        [event.userId, event.type, encode(event)],
      );
      event.seq = String(row.seq);
    }
  }

  /** In the judging transaction: true the first time, false when it was judged already (on another node, by a catch-up). */
  async claim(tx: EntityManager, seq: string): Promise<boolean> {
    const rows = await tx.execute<Array<{ seq: string }>>(
      'update ledger_journal set risk_judged_at = now() where seq = ? and risk_judged_at is null returning seq',
      [seq],
    );
    return rows.length === 1;
  }

  /** Events still unjudged that were journaled before `before` (and after `afterSeq`), oldest first. */
  async unjudged(em: EntityManager, before: Date, limit: number, afterSeq = '0'): Promise<JournaledEvent[]> {
    const rows = await em.execute<Array<{ seq: string; type: JournaledEvent['type']; payload: Record<string, unknown> | string }>>(
      'select seq, type, payload from ledger_journal where risk_judged_at is null and created_at < ? and seq > ? order by seq limit ?',
      [before, afterSeq, limit],
    );
    return rows.map((r) => decodeJournaled(String(r.seq), r.type, typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload));
  }

  /** Judged entries are kept a while for operators, then dropped. */
  async prune(em: EntityManager, judgedBefore: Date): Promise<number> {
    const [row] = await em.execute<Array<{ n: number }>>(
      'with gone as (delete from ledger_journal where risk_judged_at < ? returning 1) select count(*)::int as n from gone',
      [judgedBefore],
    );
    return row?.n ?? 0;
  }
}
