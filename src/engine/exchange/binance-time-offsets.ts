/**
 * Our clock's distance from each Binance host's clock, shared by every gateway
 * of the process: one resync after a -1021 serves all users on that base URL.
 */
export class BinanceTimeOffsets {
  private readonly offsets = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<number>>();

  offset(baseUrl: string): number {
    return this.offsets.get(baseUrl) ?? 0;
  }

  /** Concurrent callers share one GET /fapi/v1/time; the offset includes half the round trip. */
  resync(baseUrl: string, fetchServerTime: () => Promise<number>, now: () => number = Date.now): Promise<number> {
    const pending = this.inFlight.get(baseUrl);
    if (pending) return pending;
    const run = (async () => {
      const start = now();
      const serverTime = await fetchServerTime();
      const end = now();
      const offset = Math.round(serverTime - (start + end) / 2);
      this.offsets.set(baseUrl, offset);
      return offset;
    })().finally(() => this.inFlight.delete(baseUrl));
    this.inFlight.set(baseUrl, run);
    return run;
  }
}
