import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const TRADING_TABLES = ['orders', 'positions', 'trades', 'user_executions', 'execution_reports', 'balance_snapshots', 'account_movements', 'ledger_cursors', 'ledger_journal'];
const TRADING_ENTITIES = ['Order', 'Position', 'Trade', 'UserExecution', 'ExecutionReportRecord', 'BalanceSnapshot', 'AccountMovement', 'LedgerCursor', 'JournalEntry'];

/** The layout rules of notes/engine-layout.md (and no import circle), checked on every run rather than by a reviewer's grep. */
describe('engine layout', () => {
  const all = files(SRC).map((file) => ({ file: path.relative(SRC, file), text: readFileSync(file, 'utf8') }));

  it('the engine imports nothing from services/, schema/, app/, realtime/ or jobs/ (its needs are ports)', () => {
    const offending = all
      .filter((f) => f.file.startsWith(`engine${path.sep}`))
      .flatMap((f) => [...f.text.matchAll(/from '((?:\.\.\/)+(?:services|schema|app|realtime|jobs)\/[^']*)'/g)].map((m) => `${f.file}: ${m[1]}`));
    expect(offending).toEqual([]);
  });

  it('only src/engine/ledger writes orders, positions, trades, executions, balance snapshots and movements', () => {
    const sql = new RegExp(`(insert\\s+into|update|delete\\s+from)\\s+"?(${TRADING_TABLES.join('|')})\\b`, 'i');
    const orm = new RegExp(`\\b(create|nativeUpdate|nativeDelete|insertMany|upsert|upsertMany)\\(\\s*(${TRADING_ENTITIES.join('|')})\\b`);
    const writers = all
      .filter((f) => !f.file.startsWith(path.join('engine', 'ledger')) && !f.file.startsWith(`entities${path.sep}`))
      .filter((f) => sql.test(f.text) || orm.test(f.text))
      .map((f) => f.file);
    expect(writers).toEqual([]);
  });

  it('has no import circle anywhere in src, type-only imports included', () => {
    const known = new Set(all.map((f) => f.file));
    const resolve = (from: string, spec: string) => {
      const base = path.normalize(path.join(path.dirname(from), spec));
      return [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => known.has(candidate)) ?? null;
    };
    const edges = new Map(
      all.map((f) => [f.file, [...f.text.matchAll(/from '(\.{1,2}\/[^']*)'/g)].map((m) => resolve(f.file, m[1]!)).filter((x): x is string => x !== null)]),
    );
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...trail.slice(trail.indexOf(file)), file].join(' > '));
        return;
      }
      state.set(file, 'open');
      for (const next of edges.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of edges.keys()) visit(file, []);
    expect(circles).toEqual([]);
  });
});
