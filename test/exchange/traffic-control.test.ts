import { ExchangeTrafficControl, TradingReserveError } from '../../src/engine/exchange/exchange-traffic-control';
import { RateLimitedError } from '../../src/engine/exchange/exchange-errors';
import { currentTrafficClass, withTrafficClass } from '../../src/engine/exchange/traffic-class';

/** A clock the test moves; the gate's sleeps move it too, so waiting costs no real time. */
class SteppedClock {
  constructor(public t: number) {}
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

const MINUTE = 60_000;
/** 10 s into a minute. */
const START = 1_800_000_000_000 - (1_800_000_000_000 % MINUTE) + 10_000;

describe('the shared weight budget of the exchange IP', () => {
  const make = (clock: SteppedClock) => new ExchangeTrafficControl({ weightBudgetPerMinute: 2000, executionReserve: 0.3, clock });

  it('lets every class through while the minute is young', async () => {
    const traffic = make(new SteppedClock(START));
    await traffic.gate(36, 'user');
    await traffic.gate(30, 'background');
    await traffic.gate(5, 'execution');
    expect(traffic.waitForUserCallMs(36)).toBe(0);
  });

  it('counts what it sent before the header comes back, so a burst cannot overshoot', async () => {
    const clock = new SteppedClock(START);
    const traffic = make(clock);
    // 1400 is the share outside the 30 % reserve: 38 verifications of 36 fit, the 39th does not.
    for (let i = 0; i < 38; i++) await traffic.gate(36, 'user');
    await expect(traffic.gate(36, 'user')).rejects.toBeInstanceOf(TradingReserveError);
    expect(traffic.waitForUserCallMs(36)).toBe(50_000);
    expect(clock.t).toBe(START);
  });

  it("refuses a user's call at once, but still lets a signal spend the reserve, when another server on the IP used 1500", async () => {
    const clock = new SteppedClock(START);
    const traffic = make(clock);
    traffic.observeWeight(1500);
    const refused = await traffic.gate(36, 'user').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TradingReserveError);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterMs).toBe(50_000);
    // 500 left: a whole fan-out of reads for 50 users goes out now.
    for (let i = 0; i < 50; i++) await traffic.gate(10, 'execution');
    expect(clock.t).toBe(START);
  });

  it('makes background work wait for the next minute instead of failing, and execution only past the whole budget', async () => {
    const clock = new SteppedClock(START);
    const traffic = make(clock);
    traffic.observeWeight(1395);
    await traffic.gate(30, 'background');
    expect(clock.t).toBe(START + 50_000);
    traffic.observeWeight(1995);
    await traffic.gate(5, 'execution');
    expect(clock.t).toBe(START + 50_000);
    await traffic.gate(5, 'execution');
    expect(clock.t).toBe(START + 50_000 + MINUTE);
  });

  it('keeps the highest weight Binance reported this minute, and forgets it at the next', async () => {
    const clock = new SteppedClock(START);
    const traffic = make(clock);
    traffic.observeWeight(1450);
    traffic.observeWeight(200); // an answer that overtook a later one
    expect(traffic.waitForUserCallMs(1)).toBeGreaterThan(0);
    clock.t += MINUTE;
    expect(traffic.waitForUserCallMs(1)).toBe(0);
    traffic.observeWeight(Number.NaN);
    traffic.observeWeight(undefined);
    expect(traffic.waitForUserCallMs(1)).toBe(0);
  });

  it('refuses every class during a pause longer than maxWaitMs, and says how long', async () => {
    const clock = new SteppedClock(START);
    const traffic = new ExchangeTrafficControl({ clock, maxWaitMs: 5 * MINUTE });
    traffic.pause(3_600_000, 'ip_banned');
    await expect(traffic.gate(1, 'execution')).rejects.toMatchObject({ retryAfterMs: 3_600_000 });
    expect(traffic.waitForUserCallMs(1)).toBe(3_600_000);
  });

  it('carries the class through awaits, and calls outside any class count as background', async () => {
    expect(currentTrafficClass()).toBe('background');
    const seen = await withTrafficClass('execution', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      const nested = await withTrafficClass('user', async () => currentTrafficClass());
      return [currentTrafficClass(), nested];
    });
    expect(seen).toEqual(['execution', 'user']);
  });
});
