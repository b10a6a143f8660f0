import type { IncomingMessage } from 'node:http';
import Decimal from 'decimal.js';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { KlineRow } from './fake-binance-routes';
import type { FakeAccount, FakeExchangeState, FakeOrder, FakeTrade } from './fake-binance-state';

interface Subscriber {
  ws: WebSocket;
  /** `/…/stream` paths wrap every payload as `{stream, data}` (Binance's combined mode); `/ws` paths send it bare. */
  combined: boolean;
}

export interface PushKline extends KlineRow {
  symbol: string;
  interval: string;
  closed: boolean;
}

/**
 * The websocket side: `/market/stream` with the SUBSCRIBE protocol for klines, and
 * the user-data stream on `/private/stream?listenKey=` (what `binance` 3.6.5 opens),
 * `/private/ws?listenKey=` and the legacy `/ws/<listenKey>`.
 */
export class FakeBinanceSockets {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly market = new Map<WebSocket, { sub: Subscriber; streams: Set<string> }>();
  private readonly users = new Map<string, Set<Subscriber>>();

  constructor(
    private readonly listenKeys: Map<string, FakeAccount>,
    private readonly state: FakeExchangeState,
    private readonly now: () => number,
  ) {}

  get marketConnectionCount(): number {
    return this.market.size;
  }

  userConnectionCount(apiKey?: string): number {
    let n = 0;
    for (const [key, subs] of this.users) if (!apiKey || this.listenKeys.get(key)?.apiKey === apiKey) n += subs.size;
    return n;
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '');
    const legacy = /^\/ws\/([A-Za-z0-9]+)$/.exec(path);
    const listenKey = path.startsWith('/private/') ? url.searchParams.get('listenKey') : legacy?.[1] ?? null;
    if (listenKey !== null || path.startsWith('/private/')) {
      if (!listenKey || !this.listenKeys.has(listenKey)) return reject(socket, 400);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.addUser(ws, listenKey, path.endsWith('/stream')));
      return;
    }
    if (['/market/stream', '/market/ws', '/public/stream', '/public/ws', '/stream', '/ws'].includes(path)) {
      const streams = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
      this.wss.handleUpgrade(req, socket, head, (ws) => this.addMarket(ws, streams, path.endsWith('/stream')));
      return;
    }
    reject(socket, 404);
  }

  private addUser(ws: WebSocket, listenKey: string, combined: boolean): void {
    const subs = this.users.get(listenKey) ?? new Set<Subscriber>();
    const sub = { ws, combined };
    subs.add(sub);
    this.users.set(listenKey, subs);
    ws.on('close', () => subs.delete(sub));
    ws.on('error', () => ws.terminate());
  }

  private addMarket(ws: WebSocket, streams: string[], combined: boolean): void {
    const entry = { sub: { ws, combined }, streams: new Set(streams) };
    this.market.set(ws, entry);
    ws.on('close', () => this.market.delete(ws));
    ws.on('error', () => ws.terminate());
    ws.on('message', (raw) => {
      let msg: { method?: string; params?: string[]; id?: number | string };
      try {
        msg = JSON.parse(raw.toString());
      } catch {
        ws.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' } }));
        return;
      }
      const method = String(msg.method ?? '').toUpperCase();
      if (method === 'SUBSCRIBE') for (const s of msg.params ?? []) entry.streams.add(s);
      else if (method === 'UNSUBSCRIBE') for (const s of msg.params ?? []) entry.streams.delete(s);
      else if (method === 'LIST_SUBSCRIPTIONS') return void ws.send(JSON.stringify({ result: [...entry.streams], id: msg.id }));
      else return void ws.send(JSON.stringify({ error: { code: 1, msg: `Invalid request: unknown method ${msg.method}` }, id: msg.id }));
      ws.send(JSON.stringify({ result: null, id: msg.id }));
    });
  }

  pushKline(k: PushKline): number {
    const stream = `${k.symbol.toLowerCase()}@kline_${k.interval}`;
    const data = {
      e: 'kline', E: this.now(), s: k.symbol,
      k: {
        t: k.openTime, T: k.closeTime, s: k.symbol, i: k.interval, f: 100, L: 200, o: k.open, c: k.close, h: k.high,
        l: k.low, v: k.volume, n: 100, x: k.closed, q: '0', V: '0', Q: '0', B: '0',
      },
    };
    let sent = 0;
    for (const { sub, streams } of this.market.values()) {
      if (!streams.has(stream)) continue;
      send(sub, stream, data);
      sent++;
    }
    return sent;
  }

  pushUser(account: FakeAccount, data: object): void {
    if (!account.listenKey || account.streamMuted) return;
    for (const sub of this.users.get(account.listenKey) ?? []) send(sub, account.listenKey, data);
  }

  orderUpdate(account: FakeAccount, order: FakeOrder, trade: FakeTrade | null): void {
    const now = this.now();
    const avg = order.executedQty.isZero() ? '0' : order.cumQuote.div(order.executedQty).toFixed();
    this.pushUser(account, {
      e: 'ORDER_TRADE_UPDATE', E: now, T: now,
      o: {
        s: order.symbol, c: order.clientOrderId, S: order.side, o: order.type, f: order.timeInForce,
        q: order.origQty.toFixed(), p: order.price.toFixed(), ap: avg, sp: '0', x: trade ? 'TRADE' : order.status === 'CANCELED' ? 'CANCELED' : 'NEW',
        X: order.status, i: order.orderId, l: trade ? trade.qty.toFixed() : '0', z: order.executedQty.toFixed(),
        L: trade ? trade.price.toFixed() : '0', N: trade ? trade.commissionAsset : 'USDT', n: trade ? trade.commission.toFixed() : '0', T: order.updateTime,
        t: trade ? trade.id : 0, b: '0', a: '0', m: false, R: order.reduceOnly, wt: 'CONTRACT_PRICE', ot: order.type,
        ps: order.positionSide, cp: false, rp: trade ? trade.realizedPnl.toFixed() : '0', pP: false, si: 0, ss: 0, V: 'EXPIRE_MAKER',
        pm: 'NONE', gtd: 0,
      },
    });
  }

  accountUpdate(account: FakeAccount, symbol: string): void {
    this.balanceUpdate(account, 'ORDER', new Decimal(0), this.now(), symbol);
  }

  /** ACCOUNT_UPDATE: `bc` is the balance change other than realized PnL and commission (deposit, withdrawal, funding…). */
  balanceUpdate(account: FakeAccount, reason: string, change: Decimal, at: number, symbol: string): void {
    const now = this.now();
    const pos = account.position(symbol);
    const mark = this.state.price(symbol);
    this.pushUser(account, {
      e: 'ACCOUNT_UPDATE', E: now, T: at,
      a: {
        m: reason,
        B: [{ a: 'USDT', wb: account.wallet.toFixed(8), cw: account.wallet.toFixed(8), bc: change.toFixed(8) }],
        P: [{
          s: symbol, pa: pos.amt.toFixed(), ep: pos.entry.toFixed(), bep: pos.entry.toFixed(), cr: '0',
          up: pos.amt.times(mark.minus(pos.entry)).toFixed(8), mt: 'cross', iw: '0', ps: 'BOTH',
        }],
      },
    });
  }

  /** Binance's notice that a key died: the package then respawns with a fresh one. */
  expireListenKey(listenKey: string): void {
    const account = this.listenKeys.get(listenKey);
    if (account) this.pushUser(account, { e: 'listenKeyExpired', E: this.now(), listenKey });
    this.closeListenKey(listenKey);
  }

  closeListenKey(listenKey: string): void {
    const account = this.listenKeys.get(listenKey);
    if (account?.listenKey === listenKey) account.listenKey = null;
    this.listenKeys.delete(listenKey);
    for (const sub of this.users.get(listenKey) ?? []) sub.ws.terminate();
    this.users.delete(listenKey);
  }

  dropMarketConnections(): number {
    const n = this.market.size;
    for (const ws of this.market.keys()) ws.terminate();
    return n;
  }

  dropUserConnections(apiKey?: string): number {
    let n = 0;
    for (const [key, subs] of this.users) {
      if (apiKey && this.listenKeys.get(key)?.apiKey !== apiKey) continue;
      for (const sub of subs) {
        sub.ws.terminate();
        n++;
      }
    }
    return n;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function send(sub: Subscriber, stream: string, data: object): void {
  if (sub.ws.readyState !== WebSocket.OPEN) return;
  sub.ws.send(JSON.stringify(sub.combined ? { stream, data } : data));
}

function reject(socket: Duplex, status: number): void {
  socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
