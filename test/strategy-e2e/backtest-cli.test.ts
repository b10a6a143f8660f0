import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExitCode, main } from '../../src/cli/backtest';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'btcusdt-15m-sim-seed42.csv');

/** Runs the CLI in-process and keeps what it wrote. */
function backtest(...argv: string[]): { code: ExitCode; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const code = main(argv, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

describe('backtest CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'backtest-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the shipped CSV fixture: signals, trades, win rate, return, drawdown, fees', () => {
    const { code, stdout, stderr } = backtest('--csv', FIXTURE);
    expect([code, stderr]).toEqual([ExitCode.OK, '']);
    expect(stdout).toContain(`Backtest: ${FIXTURE}`);
    expect(stdout).toMatch(/^Period: {10}2024-01-01 00:00 → .* UTC \(1000 candles\)$/m);
    expect(stdout).toMatch(/^Signals: {9}31 \(/m);
    expect(stdout).toMatch(/^Trades: {10}16$/m);
    expect(stdout).toMatch(/^Win rate: {8}25\.00%$/m);
    expect(stdout).toMatch(/^Total return: {4}-0\.46%$/m);
    expect(stdout).toMatch(/^Max drawdown: {4}2\.91%$/m);
    expect(stdout).toMatch(/^Fees paid: {7}40\.59 USDT$/m);
  });

  it('runs on simulated data, the same report for the same seed', () => {
    const first = backtest('--simulated', '--seed', '7', '--candles', '300');
    expect([first.code, first.stderr]).toEqual([ExitCode.OK, '']);
    expect(first.stdout).toContain('Backtest: simulated seed 7, 300 × 15m');
    expect(first.stdout).toContain('(300 candles)');
    for (const label of ['Signals:', 'Trades:', 'Win rate:', 'Total return:', 'Max drawdown:', 'Fees paid:']) {
      expect(first.stdout).toMatch(new RegExp(`^${label} +\\S`, 'm'));
    }
    expect(backtest('--simulated', '--seed', '7', '--candles', '300').stdout).toBe(first.stdout);
    expect(backtest('--simulated', '--seed', '8', '--candles', '300').stdout).not.toBe(first.stdout);
  });

  it('writes the equity curve as SVG', () => {
    const svg = path.join(dir, 'out.svg');
    const { code, stdout } = backtest('--simulated', '--seed', '7', '--candles', '300', '--svg', svg);
    expect(code).toBe(ExitCode.OK);
    expect(stdout).toContain(`Equity curve written to ${svg}`);
    const written = readFileSync(svg, 'utf8');
    expect(written.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(written.match(/points="([^"]*)"/)![1].split(' ')).toHaveLength(300);
  });

  it('names the line of a malformed CSV row and exits non-zero without a report', () => {
    const lines = readFileSync(FIXTURE, 'utf8').split('\n').slice(0, 5);
    lines[2] = lines[2].replace(/^(\d+),[^,]+,/, '$1,not-a-price,');
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(bad, lines.join('\n') + '\n');
    const { code, stdout, stderr } = backtest('--csv', bad);
    expect(code).toBe(ExitCode.FAILED);
    expect(stdout).toBe('');
    expect(stderr).toBe(`Backtest failed: ${bad}:3: open "not-a-price" is not a number\n`);
  });

  it('reports a missing file and bad arguments instead of crashing', () => {
    const missing = backtest('--csv', path.join(dir, 'nope.csv'));
    expect(missing.code).toBe(ExitCode.FAILED);
    expect(missing.stderr).toMatch(/^Backtest failed: ENOENT.*nope\.csv/);

    for (const argv of [[], ['--csv', FIXTURE, '--simulated'], ['--simulated', '--interval', '7m'], ['--simulated', '--seed', 'x'], ['--bogus']]) {
      const r = backtest(...argv);
      expect(r.code).toBe(ExitCode.USAGE);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Usage:');
    }
  });

  it('`npm run backtest` builds and runs on the shipped fixture', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        'npm',
        ['run', '--silent', 'backtest', '--', '--csv', 'test/fixtures/btcusdt-15m-sim-seed42.csv'],
        { cwd: ROOT, encoding: 'utf8' },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
      );
    });
    // stderr in the comparison shows why when the build or the run fails.
    expect({ code: result.code, stderr: result.stderr.replace(/^npm warn .*\n/gm, '') }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Backtest: test/fixtures/btcusdt-15m-sim-seed42.csv');
    expect(result.stdout).toMatch(/^Total return: {4}-0\.46%$/m);
  }, 120_000);
});
