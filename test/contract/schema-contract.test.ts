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
// Viewer is the `me` namespace: its fields are the signed-in user's root fields.
const ROOTS = ['Query', 'Mutation', 'Subscription', 'Viewer'];

/**
 * Fields of non-root types (and inputs) that belong to work not built yet.
 * Each entry names its owner; delete it once the field exists, or the test
 * reports it as stale. Root fields and whole types are pending without a list.
 */
const PENDING_FIELDS = [
  // Pausing trading and protective orders (later engine work).
  'User.tradingPaused',
  'ExchangeConfig.maxSlippagePct',
  'ExchangeConfig.protectiveStopPct',
  'ExchangeConfigInput.maxSlippagePct',
  'ExchangeConfigInput.protectiveStopPct',
];

const fieldOf = (change: BreakingChange) => /^([A-Za-z_]+\.[A-Za-z_]+) was removed\.$/.exec(change.description)?.[1] ?? null;

/** Contract parts no code defines yet: a root field, a whole type, or a listed field. */
function notYetBuilt(change: BreakingChange): boolean {
  if (change.type === BreakingChangeType.TYPE_REMOVED) return true;
  if (change.type !== BreakingChangeType.FIELD_REMOVED) return false;
  const field = fieldOf(change);
  if (!field) return false;
  return ROOTS.some((root) => field.startsWith(`${root}.`)) || PENDING_FIELDS.includes(field);
}

describe('GraphQL contract', () => {
  const contract = buildSchema(readFileSync(CONTRACT, 'utf8'));
  const server = buildAppSchema();

  it('has no breaking change against contract/schema.graphql but the parts not built yet', () => {
    const changes = findBreakingChanges(contract, server);
    const pending = changes.filter(notYetBuilt);
    if (pending.length > 0) {
      process.stdout.write(`contract parts not built yet (${pending.length}):\n${pending.map((c) => `  - ${c.description}`).join('\n')}\n`);
    }
    expect(changes.filter((c) => !notYetBuilt(c)).map((c) => c.description)).toEqual([]);
  });

  it('lists as pending only fields that are still missing', () => {
    const missing = new Set(findBreakingChanges(contract, server).map(fieldOf).filter(Boolean));
    expect(PENDING_FIELDS.filter((field) => !missing.has(field))).toEqual([]);
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
