import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from 'pino';
import { PositionSide } from '../../src/entities/enums';
import type { Candle } from '../../src/engine/market/candle';
import { parseKlineCsv } from '../../src/engine/market/kline-csv';
import type { Vote, Witness } from '../../src/engine/strategy/witness';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const STEP_15M = 15 * 60_000;
export const T0 = Date.UTC(2024, 2, 1);

export function loadFixture(name: string): Candle[] {
  return parseKlineCsv(readFileSync(join(FIXTURES, name), 'utf8'), name);
}

/** A logger whose lines the test can read. */
export function captureLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      out.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return { logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export const silentLogger = pino({ level: 'silent' });

/** Flat candles at a given close, one per 15 minutes from T0 + index. */
export function candleAt(index: number, close = '60000.0'): Candle {
  return { openTime: T0 + index * STEP_15M, closeTime: T0 + (index + 1) * STEP_15M - 1, open: close, high: close, low: close, close, volume: '1.000' };
}

/** A witness that answers from a script keyed by candle index (openTime), FLAT 0 otherwise. */
export class ScriptedWitness implements Witness {
  readonly lookback = 1;
  readonly seen: (readonly Candle[])[] = [];
  constructor(
    readonly name: string,
    private readonly script: (index: number, candles: readonly Candle[]) => Vote | unknown,
  ) {}
  evaluate(candles: readonly Candle[]): Vote {
    this.seen.push(candles);
    const last = candles[candles.length - 1];
    return this.script((last.openTime - T0) / STEP_15M, candles) as Vote;
  }
}

export const long = (confidence = 1): Vote => ({ side: PositionSide.LONG, confidence, reason: 'scripted long' });
export const short = (confidence = 1): Vote => ({ side: PositionSide.SHORT, confidence, reason: 'scripted short' });
export const flat = (confidence = 0): Vote => ({ side: PositionSide.FLAT, confidence, reason: 'scripted flat' });
