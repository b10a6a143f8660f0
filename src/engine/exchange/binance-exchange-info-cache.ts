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

function parseFilters(symbol: string, filters: WireFilter[]): SymbolFilters {
  const by = (type: string) => filters.find((f) => f.filterType === type);
  const price = by('PRICE_FILTER');
  const lot = by('LOT_SIZE');
  const market = by('MARKET_LOT_SIZE');
  const notional = by('MIN_NOTIONAL');
  return {
    symbol,
    tickSize: new Decimal(price?.tickSize ?? '0'),
    stepSize: new Decimal(lot?.stepSize ?? market?.stepSize ?? '0'),
    minQty: new Decimal(lot?.minQty ?? '0'),
    // MARKET orders are bounded by MARKET_LOT_SIZE, which is tighter than LOT_SIZE.
    maxQty: Decimal.min(new Decimal(lot?.maxQty ?? 'Infinity'), new Decimal(market?.maxQty ?? 'Infinity')),
    minNotional: new Decimal(notional?.notional ?? '0'),
  };
}
