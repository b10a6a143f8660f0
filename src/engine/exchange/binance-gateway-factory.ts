import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Logger } from 'pino';
import { BinanceExchangeInfoCache } from './binance-exchange-info-cache';
import { BinanceFuturesGateway } from './binance-futures-gateway';
import { BinanceTimeOffsets } from './binance-time-offsets';
import { ExchangeTrafficControl, type TrafficControlOptions } from './exchange-traffic-control';
import type { EngineMetrics } from '../metrics-port';

/** Every host a gateway dials, mainnet and testnet: all of them from the BINANCE_* settings, none from the package's defaults. */
export interface BinanceEndpoints {
  futuresUrl: string;
  futuresTestnetUrl: string;
  spotUrl: string;
  spotTestnetUrl: string;
  futuresWsUrl: string;
  futuresTestnetWsUrl: string;
}

export interface BinanceCredentials {
  apiKey: string;
  apiSecret: string;
  testnet: boolean;
}

export interface BinanceGatewayFactoryOptions {
  timeoutMs?: number;
  recvWindow?: number;
  traffic?: ExchangeTrafficControl | TrafficControlOptions;
  metrics?: Pick<EngineMetrics, 'pauseStarted'>;
}

/**
 * Builds per-user gateways that share what is per process, not per user:
 * the IP's traffic control (one egress), the server-time offsets and the
 * exchangeInfo filters cache.
 */
export class BinanceGatewayFactory {
  readonly traffic: ExchangeTrafficControl;
  readonly timeOffsets = new BinanceTimeOffsets();
  readonly exchangeInfo = new BinanceExchangeInfoCache();
  /** One pool of kept-alive connections per process, shared by every user's gateway. */
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
  };

  constructor(
    private readonly endpoints: BinanceEndpoints,
    private readonly logger: Logger,
    private readonly options: BinanceGatewayFactoryOptions = {},
  ) {
    this.traffic = options.traffic instanceof ExchangeTrafficControl
      ? options.traffic
      : new ExchangeTrafficControl({ logger, metrics: options.metrics, ...options.traffic });
  }

  create(credentials: BinanceCredentials): BinanceFuturesGateway {
    const e = this.endpoints;
    return new BinanceFuturesGateway({
      apiKey: credentials.apiKey,
      apiSecret: credentials.apiSecret,
      futuresUrl: credentials.testnet ? e.futuresTestnetUrl : e.futuresUrl,
      spotUrl: credentials.testnet ? e.spotTestnetUrl : e.spotUrl,
      wsUrl: credentials.testnet ? e.futuresTestnetWsUrl : e.futuresWsUrl,
      timeoutMs: this.options.timeoutMs,
      recvWindow: this.options.recvWindow,
      traffic: this.traffic,
      timeOffsets: this.timeOffsets,
      exchangeInfo: this.exchangeInfo,
      logger: this.logger,
      agents: this.agents,
    });
  }

  /** Closes the kept-alive connections (shutdown). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
