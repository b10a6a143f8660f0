import Decimal from 'decimal.js';
import { InvalidOrderError } from './exchange-errors';
import type { SymbolFilters } from './exchange-gateway';

interface WireFilter {
  filterType: string;
  tickSize?: string;
  stepSize?: string;
  minQty?: string;
  maxQty?: string;
  notional?: string;
}

export interface WireExchangeInfo {
  symbols: Array<{ symbol: string; filters: WireFilter[] }>;
}

/** exchangeInfo filters per base URL, shared by all gateways (the answer is the same for every user). */
export class BinanceExchangeInfoCache {
  private readonly entries = new Map<string, { at: number; filters: Map<string, SymbolFilters> }>();
  private readonly inFlight = new Map<string, Promise<Map<string, SymbolFilters>>>();

  constructor(private readonly ttlMs = 60 * 60_000, private readonly now: () => number = Date.now) {}

  async get(baseUrl: string, symbol: string, load: () => Promise<WireExchangeInfo>): Promise<SymbolFilters> {
    const cached = this.entries.get(baseUrl);
    const table = cached && this.now() - cached.at < this.ttlMs ? cached.filters : await this.refresh(baseUrl, load);
    const filters = table.get(symbol);
    if (!filters) throw new InvalidOrderError(`Symbol ${symbol} is not traded on Binance USD-M futures.`);
    return filters;
  }

  private refresh(baseUrl: string, load: () => Promise<WireExchangeInfo>): Promise<Map<string, SymbolFilters>> {
    const pending = this.inFlight.get(baseUrl);
    if (pending) return pending;
    const run = load()
      .then((info) => {
        const table = new Map<string, SymbolFilters>();
        for (const s of info.symbols) table.set(s.symbol, parseFilters(s.symbol, s.filters));
        this.entries.set(baseUrl, { at: this.now(), filters: table });
        return table;
      })
      .finally(() => this.inFlight.delete(baseUrl));
    this.inFlight.set(baseUrl, run);
    return run;
  }
}

/**
 * The engine places MARKET orders only, which Binance bounds by both LOT_SIZE
 * and MARKET_LOT_SIZE: each rule is the stricter of the two (the coarser step,
 * the larger minimum, the smaller maximum).
 */
export function parseFilters(symbol: string, filters: WireFilter[]): SymbolFilters {
  const by = (type: string) => filters.find((f) => f.filterType === type);
  const price = by('PRICE_FILTER');
  const lot = by('LOT_SIZE');
  const market = by('MARKET_LOT_SIZE');
  const notional = by('MIN_NOTIONAL');
  const positive = (v: string | undefined) => (v !== undefined && new Decimal(v).gt(0) ? new Decimal(v) : null);
  const stricter = (a: Decimal | null, b: Decimal | null, pick: 'max' | 'min') =>
    a && b ? (pick === 'max' ? Decimal.max(a, b) : Decimal.min(a, b)) : (a ?? b);
  return {
    symbol,
    tickSize: new Decimal(price?.tickSize ?? '0'),
    stepSize: stricter(positive(lot?.stepSize), positive(market?.stepSize), 'max') ?? new Decimal(0),
    minQty: stricter(positive(lot?.minQty), positive(market?.minQty), 'max') ?? new Decimal(0),
    maxQty: stricter(positive(lot?.maxQty), positive(market?.maxQty), 'min') ?? new Decimal('Infinity'),
    minNotional: new Decimal(notional?.notional ?? '0'),
  };
}
