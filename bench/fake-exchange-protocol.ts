/** Messages between the benchmark and the process hosting the fake Binance (see fake-exchange-host.ts). */
export type HostRequest =
  | { id: number; op: 'start' }
  | { id: number; op: 'addAccounts'; accounts: Array<{ apiKey: string; apiSecret: string; balance: string }> }
  | { id: number; op: 'setLatency'; ms: number }
  /** Requests served since the last call, by "METHOD /path"; the log is cleared. */
  | { id: number; op: 'takeRequestCounts' }
  | { id: number; op: 'stop' };

export type HostReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface HostAddress {
  url: string;
  wsUrl: string;
}
