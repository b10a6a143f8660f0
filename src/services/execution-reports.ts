import type { EntityManager } from '@mikro-orm/postgresql';
import type { ExecutionReport } from '../engine/engine-events';
import { ExecutionReportRecord } from '../entities/execution-report.entity';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import type { Signal } from '../entities/signal.entity';
import { UserExecution } from '../entities/user-execution.entity';

/** A signal's stored report (the summary and every user's outcome), or null while it has none yet. */
export async function readExecutionReport(em: EntityManager, signal: Signal): Promise<ExecutionReport | null> {
  const summary = await em.findOne(ExecutionReportRecord, { signal: signal.id });
  if (!summary) return null;
  const results = await em.find(UserExecution, { signal: signal.id }, { ...WITHOUT_OWNER, populate: ['order'], orderBy: { dispatchRank: 'asc', id: 'asc' } });
  for (const row of results) row.signal = signal;
  return {
    signal,
    total: summary.total,
    placed: summary.placed,
    skipped: summary.skipped,
    failed: summary.failed,
    durationMs: summary.durationMs,
    results,
  };
}
