import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BreakingChangeType, buildSchema, findBreakingChanges, printSchema, type BreakingChange } from 'graphql';
import { buildAppSchema } from '../../src/schema/build-schema';

const ROOT = path.resolve(__dirname, '../..');
/** The committed copy: a fresh clone tests against it with nothing beside it. */
const CONTRACT = path.join(ROOT, 'contract/schema.graphql');
/** The shared original, present on the team's machines and in CI: the copy must not drift from it. */
const SHARED_CONTRACT = path.resolve(ROOT, '../shared/contract/schema.graphql');

/**
 * Every contract part no code defines yet, each belonging to later work; all
 * the rest must be built. Delete an entry once it exists, or the test reports
 * it as stale: a field that disappears is caught, root fields included.
 */
const PENDING = [
  // Pausing trading, closing now, slippage caps and protective stops (later engine work).
  'User.tradingPaused',
  'Mutation.pauseTrading',
  'Mutation.resumeTrading',
  'Mutation.closeMyPositions',
  'ExchangeConfig.maxSlippagePct',
  'ExchangeConfig.protectiveStopPct',
  'ExchangeConfigInput.maxSlippagePct',
  'ExchangeConfigInput.protectiveStopPct',
  // Execution statistics and equity history (later reporting work).
  'Viewer.executionStats',
  'Viewer.equityHistory',
  'ExecutionStats',
  'EquityPoint',
];

/** The contract part a breaking change names: `Type.field` for a removed field, `Type` for a removed type. */
const partOf = (change: BreakingChange) => /^([A-Za-z_]+(?:\.[A-Za-z_]+)?) was removed\.$/.exec(change.description)?.[1] ?? null;

function notYetBuilt(change: BreakingChange): boolean {
  if (change.type !== BreakingChangeType.TYPE_REMOVED && change.type !== BreakingChangeType.FIELD_REMOVED) return false;
  const part = partOf(change);
  return part !== null && PENDING.includes(part);
}

describe('GraphQL contract', () => {
  const contract = buildSchema(readFileSync(CONTRACT, 'utf8'));
  const server = buildAppSchema();

  it('has no breaking change against contract/schema.graphql but the listed parts not built yet', () => {
    const changes = findBreakingChanges(contract, server);
    const pending = changes.filter(notYetBuilt);
    if (pending.length > 0) {
      process.stdout.write(`contract parts not built yet (${pending.length}):\n${pending.map((c) => `  - ${c.description}`).join('\n')}\n`);
    }
    expect(changes.filter((c) => !notYetBuilt(c)).map((c) => c.description)).toEqual([]);
  });

  it('lists as pending only parts that are still missing', () => {
    const missing = new Set(findBreakingChanges(contract, server).map(partOf).filter(Boolean));
    expect(PENDING.filter((part) => !missing.has(part))).toEqual([]);
  });

  it('keeps the committed copy equal to ../shared/contract/schema.graphql when that is present', () => {
    expect(existsSync(CONTRACT)).toBe(true);
    if (!existsSync(SHARED_CONTRACT)) {
      process.stdout.write(`${SHARED_CONTRACT} is absent: testing against the committed copy only\n`);
      return;
    }
    expect(readFileSync(CONTRACT, 'utf8')).toBe(readFileSync(SHARED_CONTRACT, 'utf8'));
  });

  it('is what `npm run --silent schema:print` prints, with no database configured', () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const printed = execFileSync('npm', ['run', '--silent', 'schema:print'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(printed.trim()).toBe(printSchema(server).trim());
  }, 120_000);
});
