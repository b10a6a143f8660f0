import { SignalAction, SignalSource } from '../src/entities/enums';
import { OWNER_FILTER } from '../src/entities/owner-filter';
import { Signal } from '../src/entities/signal.entity';
import { UserExchangeConfig } from '../src/entities/user-exchange-config.entity';
import type { Services } from '../src/app/services';
import type { SignalExecutor } from '../src/engine/execution/signal-executor';
import { emit, median, note, percentile } from './bench-report';
import type { RemoteFakeBinance } from './remote-fake-binance';

export const EXCHANGE_LATENCY_MS = 50;

export interface FanOutBenchDeps {
  services: Services;
  fake: RemoteFakeBinance;
  /** The same engine with a pool of one: the single-user system's one-after-another execution. */
  sequential: SignalExecutor;
}

/** A fan-out where some user did not get an order: its timings would not mean anything. */
export class IncompleteFanOutError extends Error {}

interface Run {
  action: SignalAction;
  wallMs: number;
  cpuMs: number;
  /** Slowest user's task, from the start of the fan-out (routing and the final insert excluded). */
  fanOutMs: number;
  requests: Record<string, number>;
}

async function newSignal(services: Services, action: SignalAction): Promise<Signal> {
  const em = services.orm.em.fork();
  const signal = em.create(Signal, { source: SignalSource.MANUAL, action, symbol: services.config.STRATEGY_SYMBOL, strength: '1', referencePrice: '50000' });
  await em.flush();
  return signal;
}

/** One signal through `executor`, timed from the call to the report (every user acknowledged and recorded). */
async function runSignal(deps: FanOutBenchDeps, executor: SignalExecutor, action: SignalAction, expected: number): Promise<Run> {
  const signal = await newSignal(deps.services, action);
  await deps.fake.takeRequestCounts();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const report = await executor.execute(signal);
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  if (report.placed !== expected) {
    const reasons = new Map<string, number>();
    for (const r of report.results) if (r.status !== 'PLACED') reasons.set(r.reason ?? r.status, (reasons.get(r.reason ?? r.status) ?? 0) + 1);
    const why = [...reasons].map(([reason, n]) => `${n}× ${reason}`).join('; ');
    throw new IncompleteFanOutError(`${action} placed ${report.placed}/${expected} orders in ${wallMs.toFixed(0)} ms: ${why}`);
  }
  return {
    action,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    fanOutMs: Math.max(0, ...report.results.map((r) => r.latencyMs)),
    requests: await deps.fake.takeRequestCounts(),
  };
}

const perUser = (requests: Record<string, number>, users: number) =>
  Object.entries(requests).map(([path, count]) => `${path} ×${(count / users).toFixed(2)}`).join(', ') || 'none';

/**
 * Fan-out of one signal to `n` eligible users (all seeded and flat): a cold
 * first signal, then `signals` timed ones alternating CLOSE / OPEN_LONG so
 * every signal places an order for every user, then the same users one after
 * another (on `sequentialUsers` of them when that is fewer than `n`).
 * `warmUpPairs` untimed CLOSE + OPEN_LONG pairs follow the cold signal, so a
 * small N is not timed on code the JIT has barely seen.
 */
export async function benchFanOut(deps: FanOutBenchDeps, n: number, signals: number, sequentialUsers: number, warmUpPairs = 0): Promise<void> {
  const { services } = deps;
  const pool = services.config.ENGINE_CONCURRENCY;
  const bound = Math.ceil(n / pool) * EXCHANGE_LATENCY_MS;
  const name = `fanout-n${n}`;

  // Cold: no context, gateway or account snapshot cached for anyone.
  await services.contexts.closeAll();
  const cold = await runSignal(deps, services.executor, SignalAction.OPEN_LONG, n);
  emit({ name: `${name}-cold-first-signal`, value: cold.wallMs, unit: 'ms', bound });
  note(`${name} cold OPEN_LONG exchange requests per user: ${perUser(cold.requests, n)}`);

  for (let i = 0; i < warmUpPairs; i++) {
    await runSignal(deps, services.executor, SignalAction.CLOSE, n);
    await runSignal(deps, services.executor, SignalAction.OPEN_LONG, n);
  }
  const runs: Run[] = [];
  for (let i = 0; i < signals; i++) {
    runs.push(await runSignal(deps, services.executor, i % 2 === 0 ? SignalAction.CLOSE : SignalAction.OPEN_LONG, n));
  }
  // An odd count ends on CLOSE, so everyone is flat for the sequential part.
  if (signals % 2 === 0) await runSignal(deps, services.executor, SignalAction.CLOSE, n);

  // The figures are for the fan-out of an OPEN (one exchange round trip per user); a CLOSE reads the
  // live position first (two round trips in a row), so it is reported beside them with its own lines.
  for (const action of [SignalAction.OPEN_LONG, SignalAction.CLOSE]) {
    const of = runs.filter((r) => r.action === action);
    if (of.length === 0) continue;
    const label = action === SignalAction.CLOSE ? `${name}-close` : name;
    const walls = of.map((r) => r.wallMs);
    emit({ name: `${label}-signal-to-last-ack-median`, value: median(walls), unit: 'ms', bound });
    emit({ name: `${label}-signal-to-last-ack-p95`, value: percentile(walls, 95), unit: 'ms', bound });
    // The pool can complete at most `pool` users per exchange round trip.
    const totalMs = walls.reduce((a, b) => a + b, 0);
    emit({ name: `${label}-throughput`, value: (n * of.length) / (totalMs / 1000), unit: 'user-executions/s', bound: (pool * 1000) / EXCHANGE_LATENCY_MS, higherIsBetter: true });
    // One event loop keeps `pool` tasks turning over every round trip only if each costs under round trip / pool of CPU.
    emit({ name: `${label}-engine-cpu`, value: of.reduce((a, r) => a + r.cpuMs, 0) / (n * of.length), unit: 'ms/user-execution', bound: EXCHANGE_LATENCY_MS / pool });
    const overhead = median(of.map((r) => r.wallMs - r.fanOutMs));
    note(`${name} ${action} ×${of.length}: slowest user task ${median(of.map((r) => r.fanOutMs)).toFixed(0)} ms after fan-out start, routing + final insert ${overhead.toFixed(0)} ms; exchange requests per user: ${perUser(of[0].requests, n)}`);
  }

  const concurrent = new Map(runs.map((r) => [r.action, median(runs.filter((o) => o.action === r.action).map((o) => o.wallMs))]));
  await benchSequential(deps, n, sequentialUsers, concurrent);
}

/** `concurrent`: median wall per action with the pool, to compare like with like. */
async function benchSequential(deps: FanOutBenchDeps, n: number, users: number, concurrent: Map<SignalAction, number>): Promise<void> {
  const { services } = deps;
  const scale = n / users;
  const name = users === n ? `fanout-n${n}-sequential` : `fanout-n${n}-sequential-subset${users}-extrapolated-x${scale}`;
  // A subset: the others' keys are marked invalid for the OPEN, so they are routed and skipped (and, flat, get no CLOSE).
  const excluded = users < n ? await excludeAllBut(services, users) : [];
  try {
    const runs: Run[] = [];
    for (const action of [SignalAction.OPEN_LONG, SignalAction.CLOSE]) runs.push(await runSignal(deps, deps.sequential, action, users));
    for (const run of runs) {
      emit({ name: `${name}-${run.action === SignalAction.CLOSE ? 'close' : 'open'}`, value: run.wallMs * scale, unit: 'ms', bound: n * EXCHANGE_LATENCY_MS });
    }
    const sequentialMs = runs.reduce((a, r) => a + r.wallMs, 0) * scale;
    const concurrentMs = runs.reduce((a, r) => a + (concurrent.get(r.action) ?? Number.NaN), 0);
    emit({ name: `fanout-n${n}-speedup-vs-sequential`, value: sequentialMs / concurrentMs, unit: 'x', bound: services.config.ENGINE_CONCURRENCY, higherIsBetter: true });
  } finally {
    if (excluded.length > 0) await setValid(services, excluded, true);
  }
}

async function excludeAllBut(services: Services, keep: number): Promise<string[]> {
  const em = services.orm.em.fork();
  const rows = await em.find(UserExchangeConfig, {}, { filters: { [OWNER_FILTER]: false }, orderBy: { user: 'asc' }, fields: ['user'] });
  const excluded = rows.slice(keep).map((r) => r.user.id);
  await setValid(services, excluded, false);
  return excluded;
}

async function setValid(services: Services, userIds: string[], isValid: boolean): Promise<void> {
  await services.orm.em.fork().nativeUpdate(UserExchangeConfig, { user: { $in: userIds } }, { isValid }, { filters: { [OWNER_FILTER]: false } });
}
