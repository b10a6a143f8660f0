import Decimal from 'decimal.js';
import { parse } from 'csv-parse/sync';
import type { Candle } from './candle';
import { candleFromKlineRow } from './candle';

/** Binance's kline CSV columns (data.binance.vision), in order. */
export const KLINE_CSV_COLUMNS = [
  'open_time', 'open', 'high', 'low', 'close', 'volume', 'close_time',
  'quote_volume', 'count', 'taker_buy_volume', 'taker_buy_quote_volume', 'ignore',
] as const;

export class CsvFormatError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
    readonly source = 'csv',
  ) {
    super(`${source}:${line}: ${problem}`);
    this.name = 'CsvFormatError';
  }
}

/**
 * Parses klines in Binance's CSV layout (header optional). The first bad line stops the parse
 * with its 1-based line number: a backtest over silently skipped rows would report fiction.
 */
export function parseKlineCsv(text: string, source = 'csv'): Candle[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 0;
    throw new CsvFormatError(line, (err as Error).message, source);
  }
  const candles: Candle[] = [];
  records.forEach(({ record, info }, index) => {
    const line = info.lines;
    if (index === 0 && record[0]?.toLowerCase() === 'open_time') return;
    if (record.length !== KLINE_CSV_COLUMNS.length && record.length !== 11) {
      throw new CsvFormatError(line, `expected ${KLINE_CSV_COLUMNS.length} columns, got ${record.length}`, source);
    }
    let candle: Candle;
    try {
      candle = candleFromKlineRow(record.map((v, i) => (i === 0 || i === 6 ? toMillis(v) : v)));
    } catch (err) {
      throw new CsvFormatError(line, (err as Error).message, source);
    }
    const previous = candles[candles.length - 1];
    if (previous && candle.openTime <= previous.openTime) {
      throw new CsvFormatError(line, `open_time ${candle.openTime} is not after the previous row's ${previous.openTime}`, source);
    }
    candles.push(candle);
  });
  return candles;
}

// Binance's spot archives switched to microseconds in 2025; futures stay in milliseconds.
function toMillis(value: string): string {
  return /^\d{16}$/.test(value) ? value.slice(0, -3) : value;
}

/** Writes candles in the same layout (with header); derived columns are plausible, not exchange data. */
export function formatKlineCsv(candles: readonly Candle[]): string {
  const lines: string[] = [KLINE_CSV_COLUMNS.join(',')];
  for (const c of candles) {
    const volume = new Decimal(c.volume);
    const mid = new Decimal(c.high).plus(c.low).plus(c.close).div(3);
    const quote = volume.mul(mid).toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN);
    const count = volume.mul(37).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).plus(1);
    const takerShare = new Decimal(c.close).gte(c.open) ? '0.55' : '0.45';
    const takerVolume = volume.mul(takerShare).toDecimalPlaces(3, Decimal.ROUND_DOWN);
    const takerQuote = takerVolume.mul(mid).toDecimalPlaces(4, Decimal.ROUND_HALF_EVEN);
    lines.push(
      [c.openTime, c.open, c.high, c.low, c.close, c.volume, c.closeTime, quote.toFixed(4), count.toFixed(0), takerVolume.toFixed(3), takerQuote.toFixed(4), '0'].join(','),
    );
  }
  return lines.join('\n') + '\n';
}
