export { FakeBinance, type FakeBinanceOptions } from './fake-binance';
export type { FaultKind, FaultSpec, FaultHandle, LoggedRequest } from './fake-binance-http';
export type { KlineRow } from './fake-binance-routes';
export type { PushKline } from './fake-binance-ws';
export {
  BTCUSDT_RULES, DEFAULT_PERMISSIONS, TAKER_FEE, type AddAccountOptions, type ApiRestrictions, type FakeAccount, type SymbolRules,
} from './fake-binance-state';
