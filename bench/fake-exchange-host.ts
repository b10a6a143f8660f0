import { FakeBinance } from '../test/support/fake-binance';
import type { HostReply, HostRequest } from './fake-exchange-protocol';

/**
 * Child-process entry: the fake Binance runs outside the engine's process so
 * its HMAC checks and JSON work neither share the engine's event loop nor
 * count in the engine's process.cpuUsage(), as with the real exchange.
 */
// No IP weight limit: the benchmark measures the engine, not Binance's throttle (see run.ts for our own budget).
const fake = new FakeBinance({ weightLimitPerMinute: Infinity, logRequests: true });

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      await fake.start();
      return { url: fake.url, wsUrl: fake.wsUrl };
    case 'addAccounts':
      for (const a of request.accounts) fake.addAccount(a);
      return request.accounts.length;
    case 'setLatency':
      fake.setLatency(request.ms);
      return null;
    case 'takeRequestCounts': {
      const counts: Record<string, number> = {};
      for (const r of fake.requestLog) counts[`${r.method} ${r.path}`] = (counts[`${r.method} ${r.path}`] ?? 0) + 1;
      fake.clearRequestLog();
      return counts;
    }
    case 'stop':
      await fake.stop();
      return null;
  }
}

function reply(message: HostReply, last: boolean): void {
  // After the reply to 'stop' the channel closes, and with it the last handle keeping this process alive.
  process.send?.(message, undefined, undefined, () => {
    if (last) process.disconnect();
  });
}

// An orphan would keep the port and its timers: leave with the benchmark.
process.on('disconnect', () => {
  void fake.stop().finally(() => process.exit(0));
});

process.on('message', (request: HostRequest) => {
  const last = request.op === 'stop';
  handle(request).then(
    (result) => reply({ id: request.id, ok: true, result }, last),
    (err: unknown) => reply({ id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) }, last),
  );
});
