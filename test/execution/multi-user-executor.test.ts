import { dispatchOrder, fanOut, type FanOutResult, type FanOutTask, type LateSettlement } from '../../src/engine/execution/multi-user-executor';
import { VirtualClock } from './support/virtual-clock';

type Behaviour = { workMs: number } | { throwAfterMs: number } | 'hang' | 'throw-sync';

interface Harness {
  clock: VirtualClock;
  active: number;
  maxActive: number;
  startOrder: string[];
  ranksSeen: Map<string, number>;
  aborted: Set<string>;
}

function harness(): Harness {
  return { clock: new VirtualClock(), active: 0, maxActive: 0, startOrder: [], ranksSeen: new Map(), aborted: new Set() };
}

function task(h: Harness, key: string, behaviour: Behaviour): FanOutTask<string> {
  return {
    key,
    run: ({ rank, signal }) => {
      h.startOrder.push(key);
      h.ranksSeen.set(key, rank);
      signal.addEventListener('abort', () => h.aborted.add(key));
      if (behaviour === 'throw-sync') throw new Error(`${key} broke before awaiting`);
      if (behaviour === 'hang') return new Promise<string>(() => undefined);
      h.active += 1;
      h.maxActive = Math.max(h.maxActive, h.active);
      const ms = 'workMs' in behaviour ? behaviour.workMs : behaviour.throwAfterMs;
      return h.clock.sleep(ms).then(() => {
        h.active -= 1;
        if ('throwAfterMs' in behaviour) throw new Error(`${key} failed`);
        return `${key} done`;
      });
    },
  };
}

const byKey = <T>(results: FanOutResult<T>[]) => new Map(results.map((r) => [r.key, r]));
const keys = (n: number) => Array.from({ length: n }, (_, i) => `user-${String(i).padStart(2, '0')}`);

describe('fanOut', () => {
  it('never runs more tasks at once than the pool allows, and collects every result', async () => {
    const h = harness();
    const tasks = keys(20).map((k, i) => task(h, k, { workMs: ((i * 7) % 5 + 1) * 10 }));
    const report = await h.clock.run(fanOut(tasks, { concurrency: 4, taskTimeoutMs: 1_000, rotation: 0, clock: h.clock }));
    expect(h.maxActive).toBe(4);
    expect(report.maxInFlight).toBe(4);
    expect(report.results).toHaveLength(20);
    expect(report.results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(new Set(report.results.map((r) => r.key))).toEqual(new Set(tasks.map((t) => t.key)));
  });

  it('dispatches in rank order and records each user\'s rank', async () => {
    const h = harness();
    const tasks = keys(5).map((k) => task(h, k, { workMs: 10 }));
    const report = await h.clock.run(fanOut(tasks, { concurrency: 1, taskTimeoutMs: 1_000, rotation: 2, clock: h.clock }));
    expect(h.startOrder).toEqual(['user-02', 'user-03', 'user-04', 'user-00', 'user-01']);
    expect(report.results.map((r) => [r.key, r.rank])).toEqual([
      ['user-02', 0], ['user-03', 1], ['user-04', 2], ['user-00', 3], ['user-01', 4],
    ]);
    for (const r of report.results) expect(h.ranksSeen.get(r.key)).toBe(r.rank);
    // One at a time, 10 ms each: rank n waits n × 10 ms and completes at (n + 1) × 10 ms.
    expect(report.results.map((r) => [r.queuedMs, r.durationMs, r.latencyMs])).toEqual([
      [0, 10, 10], [10, 10, 20], [20, 10, 30], [30, 10, 40], [40, 10, 50],
    ]);
  });

  it('rotates who goes first across signals, whatever order the users were loaded in', () => {
    const users = keys(5).map((key) => ({ key }));
    const shuffled = [users[3], users[0], users[4], users[2], users[1]];
    const firstByCounter = [0, 1, 2, 3, 4].map((n) => dispatchOrder(shuffled, n)[0].key);
    expect(new Set(firstByCounter).size).toBe(5);

    const signalIds = Array.from({ length: 30 }, (_, i) => `5d0c6a3e-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const orders = signalIds.map((id) => dispatchOrder(users, id).map((u) => u.key));
    expect(new Set(orders.map((o) => o[0])).size).toBeGreaterThan(1);
    for (const user of keys(5)) expect(orders.every((o) => o[4] === user)).toBe(false);
    expect(dispatchOrder(users, signalIds[0])).toEqual(dispatchOrder(shuffled, signalIds[0]));
  });

  it('keeps a throwing and a hanging user from delaying the others beyond the pool capacity', async () => {
    const h = harness();
    const tasks = [
      task(h, 'a-hangs', 'hang'),
      task(h, 'b-throws', { throwAfterMs: 0 }),
      task(h, 'c-sync-throw', 'throw-sync'),
      ...['d', 'e', 'f', 'g'].map((k) => task(h, k, { workMs: 100 })),
    ];
    const report = await h.clock.run(fanOut(tasks, { concurrency: 2, taskTimeoutMs: 1_000, rotation: 0, clock: h.clock }));
    const results = byKey(report.results);

    expect(results.get('a-hangs')).toMatchObject({ status: 'timeout', rank: 0, durationMs: 1_000, latencyMs: 1_000 });
    expect(h.aborted).toEqual(new Set(['a-hangs']));
    const thrown = results.get('b-throws');
    expect(thrown?.status === 'rejected' && (thrown.error as Error).message).toBe('b-throws failed');
    expect(results.get('c-sync-throw')).toMatchObject({ status: 'rejected', latencyMs: 0 });
    // The hang holds one slot; the other slot serves everyone else back to back.
    expect(['d', 'e', 'f', 'g'].map((k) => results.get(k)?.latencyMs)).toEqual([100, 200, 300, 400]);
    expect(['d', 'e', 'f', 'g'].map((k) => results.get(k)?.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(report.results).toHaveLength(7);
  });

  it('frees a timed-out slot and still observes the task, reporting its late outcome', async () => {
    const h = harness();
    const late: LateSettlement<unknown>[] = [];
    let lateSeen!: () => void;
    const lateArrived = new Promise<void>((resolve) => (lateSeen = resolve));
    const tasks = [task(h, 'a-slow', { throwAfterMs: 5_000 }), task(h, 'b-quick', { workMs: 50 })];
    const report = await h.clock.run(
      fanOut(tasks, {
        concurrency: 1,
        taskTimeoutMs: 1_000,
        rotation: 0,
        clock: h.clock,
        onLateSettle: (l) => {
          late.push(l);
          lateSeen();
        },
      }),
    );
    expect(byKey(report.results).get('a-slow')).toMatchObject({ status: 'timeout', latencyMs: 1_000 });
    expect(byKey(report.results).get('b-quick')).toMatchObject({ status: 'fulfilled', value: 'b-quick done', queuedMs: 1_000, latencyMs: 1_050 });
    expect(late).toEqual([]);

    await h.clock.run(lateArrived);
    expect(late).toHaveLength(1);
    expect(late[0]).toMatchObject({ key: 'a-slow', rank: 0, status: 'rejected', durationMs: 5_000 });
  });

  it('measures process CPU time when asked', async () => {
    const h = harness();
    const report = await h.clock.run(
      fanOut([task(h, 'only', { workMs: 1 })], { concurrency: 1, taskTimeoutMs: 100, rotation: 'sig', clock: h.clock, measureCpu: true }),
    );
    expect(report.cpu?.userMicros).toBeGreaterThanOrEqual(0);
    expect(report.cpu?.systemMicros).toBeGreaterThanOrEqual(0);
    expect(report.wallMs).toBe(1);
  });

  it('returns an empty report for no users and refuses bad options', async () => {
    const h = harness();
    expect((await fanOut([], { concurrency: 4, taskTimeoutMs: 100, rotation: 'sig', clock: h.clock })).results).toEqual([]);
    await expect(fanOut([], { concurrency: 0, taskTimeoutMs: 100, rotation: 0 })).rejects.toThrow(RangeError);
    const dup = [task(h, 'same', { workMs: 1 }), task(h, 'same', { workMs: 1 })];
    await expect(fanOut(dup, { concurrency: 1, taskTimeoutMs: 100, rotation: 0 })).rejects.toThrow('duplicate task key same');
  });
});

describe('fanOut on the system clock', () => {
  it('times out a hanging task on real timers and leaves no timer behind', async () => {
    const tasks: FanOutTask<string>[] = [
      { key: 'hangs', run: () => new Promise<string>(() => undefined) },
      { key: 'quick', run: async () => 'ok' },
    ];
    const report = await fanOut(tasks, { concurrency: 2, taskTimeoutMs: 20, rotation: 0 });
    expect(byKey(report.results).get('hangs')?.status).toBe('timeout');
    expect(byKey(report.results).get('quick')).toMatchObject({ status: 'fulfilled', value: 'ok' });
  });
});
