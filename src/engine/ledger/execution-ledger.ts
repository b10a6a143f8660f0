import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { ExecutionStatus } from '../../entities/enums';
import { ExecutionReportRecord } from '../../entities/execution-report.entity';
import type { Order } from '../../entities/order.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import type { Signal } from '../../entities/signal.entity';
import { UserExecution } from '../../entities/user-execution.entity';

export interface ExecutionOutcome {
  userId: string;
  status: ExecutionStatus;
  reason: string | null;
  order: Order | null;
  fillPrice: string | null;
  slippage: string | null;
  rank: number | null;
  latencyMs: number;
  /** The exchange may hold the order without having said so (settled later by the reconciler). */
  unknown?: boolean;
}

/** user_executions and execution_reports: one row per user per signal, and the signal's summary. */
export class ExecutionLedger {
  /** All rows and the summary in one transaction: N users cost one insert, not N. */
  async persist(em: EntityManager, signal: Signal, outcomes: ExecutionOutcome[], durationMs: number): Promise<UserExecution[]> {
    return em.transactional(async (tx) => {
      // A re-run of the same signal (restart, retry) replaces these users' rows instead of hitting the unique (signal, user).
      await tx.nativeDelete(UserExecution, { signal: signal.id, user: { $in: outcomes.map((o) => o.userId) } }, WITHOUT_OWNER);
      await tx.nativeDelete(ExecutionReportRecord, { signal: signal.id });
      const createdAt = new Date();
      const data = outcomes.map((o) => ({
        id: randomUUID(),
        signal: signal.id,
        user: o.userId,
        status: o.status,
        reason: o.reason,
        order: o.order?.id ?? null,
        dispatchRank: o.rank,
        latencyMs: o.latencyMs,
        fillPrice: o.fillPrice,
        slippage: o.slippage,
        createdAt,
      }));
      // One multi-row INSERT outside the unit of work: at 1,000 users the change-set pass alone costs more than the insert.
      if (data.length > 0) await tx.insertMany(UserExecution, data);
      const counts = { placed: 0, skipped: 0, failed: 0 };
      for (const o of outcomes) counts[o.status.toLowerCase() as 'placed' | 'skipped' | 'failed'] += 1;
      tx.create(ExecutionReportRecord, { signal: signal.id, total: outcomes.length, ...counts, durationMs, createdAt: new Date() }, { persist: true });
      // The response and the events carry the order rows as the tasks left them.
      return data.map((row, i) => ({ ...row, signal, user: { id: row.user }, order: outcomes[i].order }) as unknown as UserExecution);
    });
  }

  /** A task that outlived its timeout finished after all: its real outcome replaces "unknown". */
  async settleLate(em: EntityManager, signal: Signal, outcome: Omit<ExecutionOutcome, 'rank' | 'latencyMs'>): Promise<void> {
    await em.nativeUpdate(
      UserExecution,
      { signal: signal.id, user: outcome.userId },
      { status: outcome.status, reason: outcome.reason, order: outcome.order?.id ?? null, fillPrice: outcome.fillPrice, slippage: outcome.slippage },
      WITHOUT_OWNER,
    );
  }
}
