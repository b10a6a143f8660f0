import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ROUTES, type Route, type RouteContext } from './fake-binance-routes';
import { BinanceReject, type FakeAccount } from './fake-binance-state';

/**
 * - `unavailable`: 503 "Service Unavailable." before executing (nothing happened);
 * - `unknownAfter`: executes, then 503 "Unknown error, please check your request or try again later.";
 * - `hang`: executes and never answers; `hangBefore`: never answers, executes nothing;
 * - `resetAfter`: executes, then destroys the socket (ECONNRESET / socket hang up);
 * - `rateLimit` / `ban`: 429 / 418 `-1003` with Retry-After; the IP stays refused for `retryAfterSeconds`;
 * - `latency`: waits `latencyMs` before handling (see also `setLatency`).
 */
export type FaultKind = 'unavailable' | 'unknownAfter' | 'hang' | 'hangBefore' | 'resetAfter' | 'rateLimit' | 'ban' | 'latency';

export interface FaultSpec {
  kind: FaultKind;
  /** Only requests carrying this API key (default: every request). */
  apiKey?: string;
  method?: string;
  /** Exact path or a pattern, e.g. '/fapi/v1/order'. */
  path?: string | RegExp;
  /** How many matching requests it hits (default 1; Infinity for every one). */
  times?: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

export interface FaultHandle {
  readonly hits: number;
  remove(): void;
}

export interface LoggedRequest {
  seq: number;
  method: string;
  path: string;
  apiKey: string | null;
  /** Query + body parameters as received (signature removed), e.g. `newClientOrderId`. */
  params: Record<string, string>;
  status: number | null;
  code: number | null;
  /** True when the request changed or read exchange state (the handler ran). */
  executed: boolean;
  fault: FaultKind | null;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
  hits: number;
}

const UNKNOWN_ERROR = 'Unknown error, please check your request or try again later.';

export class FakeBinanceHttp {
  readonly log: LoggedRequest[] = [];
  private readonly faults: ActiveFault[] = [];
  private readonly latency = new Map<string | null, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private bannedUntil = 0;
  private throttledUntil = 0;
  private weightMinute = -1;
  private usedWeight = 0;
  private usedSapiWeight = 0;
  private seq = 0;
  private readonly orderCounts = new Map<string, { tenSec: number; tenSecCount: number; minute: number; minuteCount: number }>();

  constructor(
    private readonly ctx: RouteContext,
    private readonly accounts: Map<string, FakeAccount>,
    private readonly opts: { weightLimitPerMinute: number; logRequests: boolean },
  ) {}

  injectFault(spec: FaultSpec): FaultHandle {
    const fault: ActiveFault = { ...spec, remaining: spec.times ?? 1, hits: 0 };
    this.faults.push(fault);
    return {
      get hits() { return fault.hits; },
      remove: () => { const i = this.faults.indexOf(fault); if (i >= 0) this.faults.splice(i, 1); },
    };
  }

  clearFaults(): void {
    this.faults.length = 0;
    this.latency.clear();
    this.bannedUntil = 0;
    this.throttledUntil = 0;
  }

  setLatency(ms: number, apiKey?: string): void {
    this.latency.set(apiKey ?? null, ms);
  }

  cancelTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const path = qIndex >= 0 ? rawUrl.slice(0, qIndex) : rawUrl;
    const rawQuery = qIndex >= 0 ? rawUrl.slice(qIndex + 1) : '';
    const rawBody = await readBody(req);
    const params: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(rawQuery)) params[k] = v;
    for (const [k, v] of new URLSearchParams(rawBody)) params[k] = v;
    const signature = params.signature;
    delete params.signature;
    const headerKey = req.headers['x-mbx-apikey'];
    const apiKey = typeof headerKey === 'string' ? headerKey : null;
    const method = req.method ?? 'GET';
    const entry: LoggedRequest = {
      seq: ++this.seq, method, path, apiKey, params, status: null, code: null, executed: false, fault: null,
    };
    if (this.opts.logRequests) this.log.push(entry);

    const wait = (this.latency.get(null) ?? 0) + (apiKey ? this.latency.get(apiKey) ?? 0 : 0);
    if (wait > 0) await this.sleep(wait);
    const latencyFault = this.takeFault(entry, (f) => f.kind === 'latency');
    if (latencyFault) await this.sleep(latencyFault.latencyMs ?? 0);

    const now = this.ctx.serverTime();
    if (this.bannedUntil > now) return this.tooMany(res, entry, 418, this.bannedUntil - now);
    if (this.throttledUntil > now) return this.tooMany(res, entry, 429, this.throttledUntil - now);

    const fault = this.takeFault(entry, (f) => f.kind !== 'latency');
    if (fault?.kind === 'ban' || fault?.kind === 'rateLimit') {
      const ms = (fault.retryAfterSeconds ?? 1) * 1000;
      if (fault.kind === 'ban') this.bannedUntil = now + ms;
      else this.throttledUntil = now + ms;
      return this.tooMany(res, entry, fault.kind === 'ban' ? 418 : 429, ms);
    }
    if (fault?.kind === 'unavailable') return this.reply(res, entry, 503, { code: -1001, msg: 'Service Unavailable.' });
    if (fault?.kind === 'hangBefore') return;

    const route = ROUTES[`${method} ${path}`];
    if (!route) return this.reply(res, entry, 404, '<html><body><h1>404 Not Found</h1></body></html>');

    this.addWeight(route, params);
    if (!route.sapi && this.usedWeight > this.opts.weightLimitPerMinute) {
      const retryMs = 60_000 - (now % 60_000);
      this.throttledUntil = now + retryMs;
      return this.tooMany(res, entry, 429, retryMs);
    }

    let status = 200;
    let body: unknown;
    try {
      const account = this.authenticate(route, params, apiKey, rawQuery, rawBody, signature, now);
      if (route.isOrder && account) this.countOrder(res, account.apiKey, now);
      body = route.handle(this.ctx, params, account);
      entry.executed = true;
    } catch (err) {
      if (!(err instanceof BinanceReject)) throw err;
      status = err.status;
      body = { code: err.code, msg: err.message };
    }
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'resetAfter') {
      entry.status = 0;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'unknownAfter') return this.reply(res, entry, 503, { code: -1000, msg: UNKNOWN_ERROR });
    this.reply(res, entry, status, body, route);
  }

  private authenticate(
    route: Route, params: Record<string, string>, apiKey: string | null, rawQuery: string, rawBody: string,
    signature: string | undefined, now: number,
  ): FakeAccount | null {
    if (route.security === 'NONE') return null;
    if (!apiKey) throw new BinanceReject(401, -2014, 'API-key format invalid.');
    const account = this.accounts.get(apiKey);
    if (!account || account.revoked) {
      throw new BinanceReject(401, -2015, 'Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1');
    }
    if (route.security === 'SIGNED') {
      const timestamp = Number(params.timestamp);
      const recvWindow = Number(params.recvWindow ?? 5000);
      if (!params.timestamp || Number.isNaN(timestamp)) {
        throw new BinanceReject(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
      }
      if (timestamp >= now + 1000) throw new BinanceReject(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");
      if (now - timestamp > recvWindow) throw new BinanceReject(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
      // totalParams = query string (without the trailing signature) concatenated with the body.
      const total = stripSignature(rawQuery) + stripSignature(rawBody);
      const expected = createHmac('sha256', account.apiSecret).update(total).digest('hex');
      const given = (signature ?? '').toLowerCase();
      if (given.length !== expected.length || !timingSafeEqual(Buffer.from(given), Buffer.from(expected))) {
        throw new BinanceReject(400, -1022, 'Signature for this request is not valid.');
      }
    }
    const p = account.permissions;
    const allowed = route.permission === 'none' || (p.enableReading && (route.permission === 'read' || p.enableFutures));
    if (!allowed) throw new BinanceReject(401, -2015, 'Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1');
    return account;
  }

  private takeFault(entry: LoggedRequest, kind: (f: ActiveFault) => boolean): ActiveFault | null {
    const fault = this.faults.find(
      (f) => f.remaining > 0 && kind(f) && (!f.apiKey || f.apiKey === entry.apiKey) && (!f.method || f.method === entry.method)
        && (!f.path || (typeof f.path === 'string' ? f.path === entry.path : f.path.test(entry.path))),
    );
    if (!fault) return null;
    fault.remaining--;
    fault.hits++;
    entry.fault = fault.kind;
    return fault;
  }

  spendWeight(weight: number): void {
    this.rollMinute();
    this.usedWeight += weight;
  }

  private rollMinute(): void {
    const minute = Math.floor(this.ctx.serverTime() / 60_000);
    if (minute !== this.weightMinute) {
      this.weightMinute = minute;
      this.usedWeight = 0;
      this.usedSapiWeight = 0;
    }
  }

  private addWeight(route: Route, params: Record<string, string>): void {
    this.rollMinute();
    if (route.sapi) this.usedSapiWeight += route.weight(params);
    else this.usedWeight += route.weight(params);
  }

  private countOrder(res: ServerResponse, apiKey: string, now: number): void {
    const c = this.orderCounts.get(apiKey) ?? { tenSec: -1, tenSecCount: 0, minute: -1, minuteCount: 0 };
    const tenSec = Math.floor(now / 10_000);
    const minute = Math.floor(now / 60_000);
    if (c.tenSec !== tenSec) Object.assign(c, { tenSec, tenSecCount: 0 });
    if (c.minute !== minute) Object.assign(c, { minute, minuteCount: 0 });
    c.tenSecCount++;
    c.minuteCount++;
    this.orderCounts.set(apiKey, c);
    res.setHeader('x-mbx-order-count-10s', String(c.tenSecCount));
    res.setHeader('x-mbx-order-count-1m', String(c.minuteCount));
  }

  private tooMany(res: ServerResponse, entry: LoggedRequest, status: 418 | 429, retryMs: number): void {
    const seconds = Math.max(1, Math.ceil(retryMs / 1000));
    res.setHeader('Retry-After', String(seconds));
    const until = this.ctx.serverTime() + retryMs;
    const msg = status === 418
      ? `Way too many requests; IP(127.0.0.1) banned until ${until}. Please use the websocket for live updates to avoid bans.`
      : `Too many requests; current limit of IP(127.0.0.1) is ${this.opts.weightLimitPerMinute} requests per minute. Please use the websocket for live updates to avoid polling the API.`;
    this.reply(res, entry, status, { code: -1003, msg });
  }

  private reply(res: ServerResponse, entry: LoggedRequest, status: number, body: unknown, route?: Route): void {
    entry.status = status;
    if (body && typeof body === 'object' && 'code' in body && typeof body.code === 'number' && status !== 200) entry.code = body.code;
    // Binance reports the IP weight on every answer, errors included.
    res.setHeader('x-mbx-used-weight', String(this.usedWeight));
    res.setHeader('x-mbx-used-weight-1m', String(this.usedWeight));
    if (route?.sapi) res.setHeader('x-sapi-used-ip-weight-1m', String(this.usedSapiWeight));
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/html' : 'application/json' });
    res.end(text);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }
}

function stripSignature(raw: string): string {
  return raw.split('&').filter((part) => part !== '' && !part.startsWith('signature=')).join('&');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
