import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { MovementKind } from '../../entities/account-movement.entity';
import type { MovementRecorded } from '../engine-events';

export interface MovementFact {
  kind: MovementKind;
  rawReason: string;
  asset: string;
  /** Signed as income: positive money in. */
  amount: Decimal;
  usdtValue: Decimal | null;
  symbol: string | null;
  tradeId: string | null;
  /** Identity across sources (see the constructors in movement-facts.ts). */
  externalId: string;
  occurredAt: Date;
  source: 'STREAM' | 'RECONCILE' | 'ENGINE';
  /**
   * The stream's balance changes carry no transaction id and the income history's
   * carry no stream time: such a movement also counts as already stored when one
   * of the same family, asset and amount exists within MATCH_WINDOW_MS of it.
   */
  matchLoosely: boolean;
}

/** How far apart the stream's and the income history's times of one movement may be. */
const MATCH_WINDOW_MS = 5_000;

const FAMILY: Record<MovementKind, string[]> = {
  [MovementKind.DEPOSIT]: [MovementKind.DEPOSIT, MovementKind.WITHDRAWAL, MovementKind.TRANSFER],
  [MovementKind.WITHDRAWAL]: [MovementKind.DEPOSIT, MovementKind.WITHDRAWAL, MovementKind.TRANSFER],
  [MovementKind.TRANSFER]: [MovementKind.DEPOSIT, MovementKind.WITHDRAWAL, MovementKind.TRANSFER],
  [MovementKind.FUNDING_FEE]: [MovementKind.FUNDING_FEE],
  [MovementKind.REALIZED_PNL]: [MovementKind.REALIZED_PNL],
  [MovementKind.COMMISSION]: [MovementKind.COMMISSION],
  [MovementKind.OTHER]: [MovementKind.OTHER],
};

/** account_movements: every money movement once, whichever source (stream, income history, our fills) saw it first. */
export class MovementLedger {
  async record(tx: EntityManager, userId: string, facts: MovementFact[]): Promise<MovementRecorded[]> {
    if (facts.length === 0) return [];
    // One user's movements are written one transaction at a time: the loose match below cannot race its twin.
    if (facts.some((f) => f.matchLoosely)) await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`movements:${userId}`]);
    const recorded: MovementRecorded[] = [];
    for (const fact of facts) {
      if (fact.matchLoosely && (await this.looselyKnown(tx, userId, fact))) continue;
      const rows = await tx.execute<Array<{ id: string }>>(
        'insert into account_movements (id, user_id, kind, raw_reason, asset, amount, usdt_value, symbol, trade_id, external_id, source, occurred_at, created_at) ' +
          'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()) on conflict (user_id, external_id) do nothing returning id',
        [
          randomUUID(), userId, fact.kind, fact.rawReason.slice(0, 64), fact.asset.slice(0, 16), fact.amount.toFixed(),
          fact.usdtValue?.toFixed() ?? null, fact.symbol, fact.tradeId, fact.externalId.slice(0, 160), fact.source, fact.occurredAt,
        ],
      );
      if (rows.length === 0) continue;
      recorded.push({
        type: 'MovementRecorded', userId, kind: fact.kind, rawReason: fact.rawReason, asset: fact.asset, amount: fact.amount,
        usdtValue: fact.usdtValue, symbol: fact.symbol, occurredAt: fact.occurredAt,
      });
    }
    return recorded;
  }

  /** Movements stored without a USDT value (no price was known yet), oldest first. */
  unvalued(em: EntityManager, userId: string, limit = 100) {
    return em.execute<Array<{ id: string; asset: string; amount: string; occurred_at: Date }>>(
      'select id, asset, amount, occurred_at from account_movements where user_id = ? and usdt_value is null order by occurred_at limit ?',
      [userId, limit],
    );
  }

  async setUsdtValue(em: EntityManager, userId: string, id: string, value: Decimal): Promise<void> {
    await em.execute('update account_movements set usdt_value = ? where id = ? and user_id = ? and usdt_value is null', [value.toFixed(), id, userId]);
  }

  private async looselyKnown(tx: EntityManager, userId: string, fact: MovementFact): Promise<boolean> {
    const rows = await tx.execute<Array<{ n: string }>>(
      'select count(*) as n from account_movements where user_id = ? and kind in (?) and asset = ? and amount = ? ' +
        'and occurred_at between ? and ?',
      [
        userId, FAMILY[fact.kind], fact.asset, fact.amount.toFixed(),
        new Date(fact.occurredAt.getTime() - MATCH_WINDOW_MS), new Date(fact.occurredAt.getTime() + MATCH_WINDOW_MS),
      ],
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }
}
