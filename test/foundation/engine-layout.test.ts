import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const TRADING_TABLES = ['orders', 'positions', 'trades', 'user_executions', 'execution_reports', 'balance_snapshots', 'account_movements'];
const TRADING_ENTITIES = ['Order', 'Position', 'Trade', 'UserExecution', 'ExecutionReportRecord', 'BalanceSnapshot', 'AccountMovement'];

/** The layout rules of notes/engine-layout.md, checked on every run rather than by a reviewer's grep. */
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
});
