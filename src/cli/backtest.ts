import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runBacktest } from '../engine/backtest/backtest';
import { formatBacktestReport } from '../engine/backtest/backtest-report';
import { renderEquitySvg } from '../engine/backtest/equity-svg';
import type { Candle, KlineInterval } from '../engine/market/candle';
import { intervalMs, isKlineInterval } from '../engine/market/candle';
import { parseKlineCsv } from '../engine/market/kline-csv';
import { SimulatedCandleGenerator } from '../engine/market/simulated-candle-generator';

const USAGE = `Usage:
  npm run backtest -- --csv <klines.csv> [options]
  npm run backtest -- --simulated [--seed N] [--candles M] [options]
Options:
  --interval <15m>     kline interval of the data (default 15m)
  --balance <10000>    starting balance, USDT
  --leverage <3>       whole number 1-125
  --fraction <0.2>     share of equity used as margin per position (x signal strength)
  --svg <file>         also write the equity curve as SVG
`;

export interface CliOutput {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** Exit codes: 0 done, 1 the data or the run failed (a bad CSV line, a missing file), 2 bad arguments. */
export enum ExitCode {
  OK = 0,
  FAILED = 1,
  USAGE = 2,
}

class UsageError extends Error {}

/** The whole CLI minus the process: parses `argv`, writes the report to `out`, returns the exit code. Never throws. */
export function main(argv: readonly string[], out: CliOutput = process): ExitCode {
  try {
    run(argv, out);
    return ExitCode.OK;
  } catch (err) {
    if (err instanceof UsageError) {
      out.stderr.write(`${err.message}\n\n${USAGE}`);
      return ExitCode.USAGE;
    }
    // CsvFormatError reads "<file>:<line>: <problem>".
    out.stderr.write(`Backtest failed: ${messageOf(err)}\n`);
    return ExitCode.FAILED;
  }
}

// Duck-typed: errors from node:fs are not `instanceof Error` across realms (a test runner's sandbox).
function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

function run(argv: readonly string[], out: CliOutput): void {
  const values = parseOptions(argv);
  if (values.help) {
    out.stdout.write(USAGE);
    return;
  }
  if (!values.csv === !values.simulated) throw new UsageError('Give exactly one of --csv <file> or --simulated.');
  if (!isKlineInterval(values.interval)) throw new UsageError(`--interval "${values.interval}" is not a Binance kline interval.`);
  const interval: KlineInterval = values.interval;

  let candles: Candle[];
  let title: string;
  if (values.csv) {
    candles = parseKlineCsv(readFileSync(values.csv, 'utf8'), values.csv);
    title = values.csv;
  } else {
    const seed = Number(values.seed);
    const count = Number(values.candles);
    if (!Number.isInteger(seed)) throw new UsageError('--seed must be a whole number.');
    if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new UsageError('--candles must be a whole number 1-1000000.');
    // A fixed start keeps a seed's report reproducible from run to run.
    const start = Date.UTC(2024, 0, 1) - (Date.UTC(2024, 0, 1) % intervalMs(interval));
    candles = new SimulatedCandleGenerator({ seed, interval, startTime: start }).take(count);
    title = `simulated seed ${seed}, ${count} × ${interval}`;
  }

  const result = runBacktest({
    candles,
    interval,
    startingBalance: values.balance,
    leverage: values.leverage,
    fraction: values.fraction,
  });
  out.stdout.write(formatBacktestReport(result, title));
  if (values.svg) {
    writeFileSync(values.svg, renderEquitySvg(result.equityCurve, { title: `Equity: ${title}` }));
    out.stdout.write(`Equity curve written to ${values.svg}\n`);
  }
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: {
        csv: { type: 'string' },
        simulated: { type: 'boolean', default: false },
        seed: { type: 'string', default: '1' },
        candles: { type: 'string', default: '1000' },
        interval: { type: 'string', default: '15m' },
        balance: { type: 'string', default: '10000' },
        leverage: { type: 'string', default: '3' },
        fraction: { type: 'string', default: '0.2' },
        svg: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
