import { randomBytes } from 'node:crypto';
import Decimal from 'decimal.js';
import {
  BinanceReject, marketLotOf, type FakeAccount, type FakeExchangeState, type FakeOrder, type FakeTrade, type FillOutcome,
} from './fake-binance-state';

/** NONE: public; KEY: X-MBX-APIKEY only (listenKey); SIGNED: key + timestamp + HMAC signature. */
export type Security = 'NONE' | 'KEY' | 'SIGNED';
/** Which permission a signed call needs, as Binance checks it (apiRestrictions fields). */
export type Permission = 'read' | 'trade' | 'none';

export interface KlineRow {
  openTime: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
  closeTime: number;
}

export interface RouteContext {
  state: FakeExchangeState;
  serverTime(): number;
  klines(symbol: string, interval: string): KlineRow[];
  listenKeys: Map<string, FakeAccount>;
  afterFill(account: FakeAccount, fill: FillOutcome): void;
  afterOrderChange(account: FakeAccount, order: FakeOrder): void;
  closeListenKey(listenKey: string): void;
}

export interface Route {
  security: Security;
  permission: Permission;
  weight: (params: Record<string, string>) => number;
  /** Order endpoints count against the per-account order limits instead of IP weight. */
  isOrder?: boolean;
  sapi?: boolean;
  handle(ctx: RouteContext, params: Record<string, string>, account: FakeAccount | null): unknown;
}

const s = (d: Decimal, dp?: number) => (dp === undefined ? d.toFixed() : d.toFixed(dp));

function must(account: FakeAccount | null): FakeAccount {
  if (!account) throw new BinanceReject(401, -2015, 'Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1');
  return account;
}

function required(params: Record<string, string>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') {
    throw new BinanceReject(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  }
  return value;
}

export function renderOrder(o: FakeOrder) {
  const avg = o.executedQty.isZero() ? new Decimal(0) : o.cumQuote.div(o.executedQty);
  return {
    orderId: o.orderId, symbol: o.symbol, status: o.status, clientOrderId: o.clientOrderId, price: s(o.price, 2),
    avgPrice: s(avg, 5), origQty: s(o.origQty, 3), executedQty: s(o.executedQty, 3), cumQty: s(o.executedQty, 3),
    cumQuote: s(o.cumQuote, 5), timeInForce: o.timeInForce, type: o.type, reduceOnly: o.reduceOnly, closePosition: false,
    side: o.side, positionSide: o.positionSide, stopPrice: '0', workingType: 'CONTRACT_PRICE', priceProtect: false,
    origType: o.type, priceMatch: 'NONE', selfTradePreventionMode: 'EXPIRE_MAKER', goodTillDate: 0, time: o.time,
    updateTime: o.updateTime,
  };
}

function renderTrade(t: FakeTrade) {
  return {
    buyer: t.side === 'BUY', commission: s(t.commission, 8), commissionAsset: t.commissionAsset, id: t.id, maker: false,
    orderId: t.orderId, price: s(t.price), qty: s(t.qty), quoteQty: s(t.price.times(t.qty)),
    realizedPnl: s(t.realizedPnl, 8), side: t.side, positionSide: t.positionSide, symbol: t.symbol, time: t.time,
  };
}

function positionRows(ctx: RouteContext, account: FakeAccount, symbol?: string) {
  const rows = [];
  for (const [sym, pos] of account.positions) {
    if (symbol && sym !== symbol) continue;
    const mark = ctx.state.price(sym);
    const notional = pos.amt.times(mark);
    rows.push({
      symbol: sym, positionSide: 'BOTH', positionAmt: s(pos.amt, 3), entryPrice: s(pos.entry, 8),
      breakEvenPrice: s(pos.entry, 8), markPrice: s(mark, 8), unRealizedProfit: s(pos.amt.times(mark.minus(pos.entry)), 8),
      liquidationPrice: '0', isolatedMargin: '0', notional: s(notional, 8), marginAsset: 'USDT', isolatedWallet: '0',
      initialMargin: s(notional.abs().div(account.leverageOf(sym)), 8), maintMargin: '0', positionInitialMargin: '0',
      openOrderInitialMargin: '0', adl: 0, bidNotional: '0', askNotional: '0', updateTime: pos.updateTime ?? ctx.serverTime(),
    });
  }
  return rows;
}

function accountBody(ctx: RouteContext, account: FakeAccount, v2: boolean) {
  const { state } = ctx;
  const unrealized = state.unrealized(account);
  const margin = account.wallet.plus(unrealized);
  const available = state.available(account);
  const im = state.initialMargin(account);
  const positions = positionRows(ctx, account).map((p) => ({
    symbol: p.symbol, positionSide: p.positionSide, positionAmt: p.positionAmt, unrealizedProfit: p.unRealizedProfit,
    isolatedMargin: '0', notional: p.notional, isolatedWallet: '0', initialMargin: p.initialMargin, maintMargin: '0',
    updateTime: p.updateTime,
    ...(v2 ? { leverage: String(account.leverageOf(p.symbol)), isolated: false, entryPrice: p.entryPrice } : {}),
  }));
  return {
    ...(v2 ? { feeTier: 0, canTrade: account.permissions.enableFutures, canDeposit: true, canWithdraw: true } : {}),
    totalInitialMargin: s(im, 8), totalMaintMargin: '0', totalWalletBalance: s(account.wallet, 8),
    totalUnrealizedProfit: s(unrealized, 8), totalMarginBalance: s(margin, 8), totalPositionInitialMargin: s(im, 8),
    totalOpenOrderInitialMargin: '0', totalCrossWalletBalance: s(account.wallet, 8), totalCrossUnPnl: s(unrealized, 8),
    availableBalance: s(available, 8), maxWithdrawAmount: s(available, 8),
    assets: [{
      asset: 'USDT', walletBalance: s(account.wallet, 8), unrealizedProfit: s(unrealized, 8), marginBalance: s(margin, 8),
      maintMargin: '0', initialMargin: s(im, 8), positionInitialMargin: s(im, 8), openOrderInitialMargin: '0',
      crossWalletBalance: s(account.wallet, 8), crossUnPnl: s(unrealized, 8), availableBalance: s(available, 8),
      maxWithdrawAmount: s(available, 8), updateTime: ctx.serverTime(),
    }],
    positions,
  };
}

function balanceBody(ctx: RouteContext, account: FakeAccount) {
  const unrealized = ctx.state.unrealized(account);
  const available = ctx.state.available(account);
  return [{
    accountAlias: 'SgsR', asset: 'USDT', balance: s(account.wallet, 8), crossWalletBalance: s(account.wallet, 8),
    crossUnPnl: s(unrealized, 8), availableBalance: s(available, 8), maxWithdrawAmount: s(available, 8),
    marginAvailable: true, updateTime: ctx.serverTime(),
  }];
}

function findOrder(account: FakeAccount, params: Record<string, string>): FakeOrder {
  const symbol = required(params, 'symbol');
  if (!params.orderId && !params.origClientOrderId) {
    throw new BinanceReject(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
  }
  const order = account.findOrder(symbol, params.orderId, params.origClientOrderId);
  if (!order) throw new BinanceReject(400, -2013, 'Order does not exist.');
  return order;
}

function timeWindow<T extends { time: number }>(rows: T[], params: Record<string, string>, now: number, maxLimit: number, defLimit: number): T[] {
  const limit = Math.min(Number(params.limit ?? defLimit), maxLimit);
  const week = 7 * 24 * 3600_000;
  let start = params.startTime ? Number(params.startTime) : undefined;
  let end = params.endTime ? Number(params.endTime) : undefined;
  if (start === undefined && end === undefined) start = now - week;
  if (start !== undefined && end === undefined) end = start + week;
  if (end !== undefined && start === undefined) start = end - week;
  if (end! - start! > week) throw new BinanceReject(400, -4166, 'Search window is restricted to recent 7 days only.');
  return rows.filter((r) => r.time >= start! && r.time <= end!).slice(0, limit);
}

const w = (n: number) => () => n;

export const ROUTES: Record<string, Route> = {
  'GET /fapi/v1/ping': { security: 'NONE', permission: 'none', weight: w(1), handle: () => ({}) },
  'GET /fapi/v1/time': { security: 'NONE', permission: 'none', weight: w(1), handle: (ctx) => ({ serverTime: ctx.serverTime() }) },
  'GET /fapi/v1/exchangeInfo': {
    security: 'NONE', permission: 'none', weight: w(1),
    handle: (ctx) => ({
      timezone: 'UTC', serverTime: ctx.serverTime(), futuresType: 'U_MARGINED',
      rateLimits: [
        { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
        { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
      ],
      exchangeFilters: [],
      assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
      symbols: [...ctx.state.rules.values()].map((r) => ({
        symbol: r.symbol, pair: r.symbol, contractType: 'PERPETUAL', deliveryDate: 4133404800000, onboardDate: 1569398400000,
        status: 'TRADING', baseAsset: r.symbol.replace(/USDT$/, ''), quoteAsset: 'USDT', marginAsset: 'USDT',
        pricePrecision: 2, quantityPrecision: 3, baseAssetPrecision: 8, quotePrecision: 8, underlyingType: 'COIN',
        triggerProtect: '0.0500', liquidationFee: '0.012500', marketTakeBound: '0.05',
        orderTypes: ['LIMIT', 'MARKET'], timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: '556.80', maxPrice: '4529764', tickSize: r.tickSize },
          { filterType: 'LOT_SIZE', minQty: r.minQty, maxQty: r.maxQty, stepSize: r.stepSize },
          { filterType: 'MARKET_LOT_SIZE', ...marketLotOf(r) },
          { filterType: 'MAX_NUM_ORDERS', limit: 200 },
          { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
          { filterType: 'MIN_NOTIONAL', notional: r.minNotional },
          { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
        ],
      })),
    }),
  },
  'GET /fapi/v1/klines': {
    security: 'NONE', permission: 'none',
    weight: (p) => { const l = Number(p.limit ?? 500); return l < 100 ? 1 : l < 500 ? 2 : l <= 1000 ? 5 : 10; },
    handle: (ctx, p) => {
      const symbol = required(p, 'symbol');
      const interval = required(p, 'interval');
      // Klines exist for any symbol given history (conversion prices such as BNBUSDT included).
      if (ctx.klines(symbol, interval).length === 0) ctx.state.rulesFor(symbol);
      const limit = Math.min(Number(p.limit ?? 500), 1500);
      const rows = ctx.klines(symbol, interval).filter(
        (k) => (!p.startTime || k.openTime >= Number(p.startTime)) && (!p.endTime || k.openTime <= Number(p.endTime)),
      );
      const picked = p.startTime ? rows.slice(0, limit) : rows.slice(-limit);
      return picked.map((k) => [k.openTime, k.open, k.high, k.low, k.close, k.volume, k.closeTime, '0', 0, '0', '0', '0']);
    },
  },
  'GET /fapi/v3/account': { security: 'SIGNED', permission: 'read', weight: w(5), handle: (ctx, _p, a) => accountBody(ctx, must(a), false) },
  'GET /fapi/v2/account': { security: 'SIGNED', permission: 'read', weight: w(5), handle: (ctx, _p, a) => accountBody(ctx, must(a), true) },
  'GET /fapi/v3/balance': { security: 'SIGNED', permission: 'read', weight: w(5), handle: (ctx, _p, a) => balanceBody(ctx, must(a)) },
  'GET /fapi/v2/balance': { security: 'SIGNED', permission: 'read', weight: w(5), handle: (ctx, _p, a) => balanceBody(ctx, must(a)) },
  'GET /fapi/v3/positionRisk': {
    security: 'SIGNED', permission: 'read', weight: w(5), handle: (ctx, p, a) => positionRows(ctx, must(a), p.symbol),
  },
  'GET /fapi/v2/positionRisk': {
    security: 'SIGNED', permission: 'read', weight: w(5),
    handle: (ctx, p, a) => {
      const account = must(a);
      // v2 lists every requested symbol, flat or not, with its leverage.
      const symbols = p.symbol ? [p.symbol] : [...ctx.state.rules.keys()];
      return symbols.map((symbol) => {
        ctx.state.rulesFor(symbol);
        const row = positionRows(ctx, account, symbol)[0];
        const mark = ctx.state.price(symbol);
        return {
          symbol, positionAmt: row?.positionAmt ?? '0.000', entryPrice: row?.entryPrice ?? '0.0',
          breakEvenPrice: row?.breakEvenPrice ?? '0.0', markPrice: s(mark, 8), unRealizedProfit: row?.unRealizedProfit ?? '0.00000000',
          liquidationPrice: '0', leverage: String(account.leverageOf(symbol)), maxNotionalValue: '1000000', marginType: 'cross',
          isolatedMargin: '0.00000000', isAutoAddMargin: 'false', positionSide: 'BOTH', notional: row?.notional ?? '0',
          isolatedWallet: '0', updateTime: ctx.serverTime(),
        };
      });
    },
  },
  'POST /fapi/v1/leverage': {
    security: 'SIGNED', permission: 'trade', weight: w(1),
    handle: (ctx, p, a) => {
      const symbol = required(p, 'symbol');
      const leverage = Number(required(p, 'leverage'));
      ctx.state.setLeverage(must(a), symbol, leverage);
      return { leverage, maxNotionalValue: '1000000', symbol };
    },
  },
  'GET /fapi/v1/positionSide/dual': {
    security: 'SIGNED', permission: 'read', weight: w(30), handle: (_ctx, _p, a) => ({ dualSidePosition: must(a).hedgeMode }),
  },
  'POST /fapi/v1/order': {
    security: 'SIGNED', permission: 'trade', weight: w(0), isOrder: true,
    handle: (ctx, p, a) => {
      const account = must(a);
      const { order, fill } = ctx.state.placeOrder(account, {
        symbol: required(p, 'symbol'), side: required(p, 'side'), type: required(p, 'type'), quantity: p.quantity,
        price: p.price, timeInForce: p.timeInForce, reduceOnly: p.reduceOnly, newClientOrderId: p.newClientOrderId,
        positionSide: p.positionSide,
      });
      if (fill) ctx.afterFill(account, fill);
      else ctx.afterOrderChange(account, order);
      if (p.newOrderRespType === 'RESULT') return renderOrder(order);
      // ACK: what Binance answers before the matching engine reports (notes §0.2).
      return { ...renderOrder({ ...order, status: 'NEW', executedQty: new Decimal(0), cumQuote: new Decimal(0) }), avgPrice: '0.00000' };
    },
  },
  'GET /fapi/v1/order': {
    security: 'SIGNED', permission: 'read', weight: w(1), handle: (_ctx, p, a) => renderOrder(findOrder(must(a), p)),
  },
  'DELETE /fapi/v1/order': {
    security: 'SIGNED', permission: 'trade', weight: w(1),
    handle: (ctx, p, a) => {
      const account = must(a);
      let order: FakeOrder;
      try {
        order = findOrder(account, p);
      } catch (err) {
        if (err instanceof BinanceReject && err.code === -2013) throw new BinanceReject(400, -2011, 'Unknown order sent.');
        throw err;
      }
      const cancelled = ctx.state.cancel(account, order);
      ctx.afterOrderChange(account, cancelled);
      return renderOrder(cancelled);
    },
  },
  'GET /fapi/v1/openOrders': {
    security: 'SIGNED', permission: 'read', weight: (p) => (p.symbol ? 1 : 40),
    handle: (_ctx, p, a) => must(a).orders.filter((o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (!p.symbol || o.symbol === p.symbol)).map(renderOrder),
  },
  'GET /fapi/v1/userTrades': {
    security: 'SIGNED', permission: 'read', weight: w(5),
    handle: (ctx, p, a) => {
      const symbol = required(p, 'symbol');
      let trades = must(a).trades.filter((t) => t.symbol === symbol && (!p.orderId || String(t.orderId) === p.orderId));
      if (p.fromId) {
        if (p.startTime || p.endTime) throw new BinanceReject(400, -4133, 'fromId cannot be sent with startTime or endTime.');
        trades = trades.filter((t) => t.id >= Number(p.fromId)).slice(0, Math.min(Number(p.limit ?? 500), 1000));
      } else if (!p.orderId) {
        trades = timeWindow(trades, p, ctx.serverTime(), 1000, 500);
      }
      return trades.map(renderTrade);
    },
  },
  'GET /fapi/v1/income': {
    security: 'SIGNED', permission: 'read', weight: w(30),
    handle: (ctx, p, a) => {
      const rows = must(a).income.filter((i) => (!p.symbol || i.symbol === p.symbol) && (!p.incomeType || i.incomeType === p.incomeType));
      return timeWindow(rows, p, ctx.serverTime(), 1000, 100).map((i) => ({
        symbol: i.symbol, incomeType: i.incomeType, income: s(i.income, 8), asset: i.asset, info: i.incomeType,
        time: i.time, tranId: i.tranId, tradeId: i.tradeId,
      }));
    },
  },
  'POST /fapi/v1/listenKey': {
    security: 'KEY', permission: 'none', weight: w(1),
    handle: (ctx, _p, a) => {
      const account = must(a);
      // While a key is alive Binance hands back the same one (and extends it).
      if (!account.listenKey) {
        account.listenKey = randomBytes(32).toString('hex');
        ctx.listenKeys.set(account.listenKey, account);
      }
      return { listenKey: account.listenKey };
    },
  },
  'PUT /fapi/v1/listenKey': {
    security: 'KEY', permission: 'none', weight: w(1),
    handle: (_ctx, _p, a) => {
      const account = must(a);
      if (!account.listenKey) throw new BinanceReject(400, -1125, 'This listenKey does not exist.');
      return { listenKey: account.listenKey };
    },
  },
  'DELETE /fapi/v1/listenKey': {
    security: 'KEY', permission: 'none', weight: w(1),
    handle: (ctx, _p, a) => {
      const account = must(a);
      if (account.listenKey) ctx.closeListenKey(account.listenKey);
      return {};
    },
  },
  'GET /sapi/v1/account/apiRestrictions': {
    security: 'SIGNED', permission: 'none', weight: w(1), sapi: true,
    handle: (_ctx, _p, a) => ({ ...must(a).permissions, createTime: 1623840271000, enableFixApiTrade: false, enableFixReadOnly: false }),
  },
};
