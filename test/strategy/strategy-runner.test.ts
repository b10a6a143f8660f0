import { PositionSide, SignalAction } from '../../src/entities/enums';
import { CsvReplayFeed } from '../../src/engine/market/csv-replay-feed';
import { Orchestrator } from '../../src/engine/strategy/orchestrator';
import type { StrategySignal } from '../../src/engine/strategy/strategy-signal';
import { StrategyRunner } from '../../src/engine/strategy/strategy-runner';
import { runBacktest } from '../../src/engine/backtest/backtest';
import { candleAt, flat, loadFixture, long, ScriptedWitness, short, silentLogger } from './strategy-test-kit';

const orchestratorWith = (script: (i: number) => ReturnType<typeof long>) =>
  new Orchestrator({
    symbol: 'BTCUSDT',
    interval: '15m',
    logger: silentLogger,
    cooldownCandles: 0,
    witnesses: [{ witness: new ScriptedWitness('w', (i) => script(i)), weight: 1 }],
  });

describe('StrategyRunner', () => {
  it('warms up on history, emits live signals in order, and stops cleanly', async () => {
    const candles = Array.from({ length: 8 }, (_, i) => candleAt(i));
    // Votes long on history candles too: those must not produce signals.
    const orchestrator = orchestratorWith((i) => (i < 3 || i === 4 || i === 5 ? long() : i === 6 ? short() : flat()));
    const feed = new CsvReplayFeed({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger, candles, historyCandles: 3 });
    const emitted: StrategySignal[] = [];
    const runner = new StrategyRunner({ feed, orchestrator, logger: silentLogger, emit: async (s) => void emitted.push(s) });
    await runner.start();
    expect(runner.running).toBe(true);
    await feed.done;
    await runner.idle();
    await runner.stop();
    expect(runner.running).toBe(false);
    expect(emitted.map((s) => `${(s.candleTime - candles[0].openTime) / 900_000}:${s.action}`)).toEqual(['4:OPEN_LONG', '6:CLOSE', '6:OPEN_SHORT', '7:CLOSE']);
  });

  it('does not commit a signal whose emit failed, and does not send the OPEN of a flip whose CLOSE failed', async () => {
    const orchestrator = orchestratorWith((i) => (i === 1 || i === 2 ? long() : i >= 3 ? short() : flat()));
    const candles = Array.from({ length: 5 }, (_, i) => candleAt(i));
    const feed = new CsvReplayFeed({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger, candles });
    const attempts: string[] = [];
    let failNext = 2; // the first OPEN_LONG (candle 1) fails; its retry on candle 2 succeeds; the flip's CLOSE on 3 fails once
    const runner = new StrategyRunner({
      feed,
      orchestrator,
      logger: silentLogger,
      emit: async (s) => {
        const index = (s.candleTime - candles[0].openTime) / 900_000;
        attempts.push(`${index}:${s.action}`);
        if ((index === 1 || index === 3) && failNext-- > 0) throw new Error('database down');
      },
    });
    await runner.start();
    await feed.done;
    await runner.stop();
    expect(attempts).toEqual(['1:OPEN_LONG', '2:OPEN_LONG', '3:CLOSE', '4:CLOSE', '4:OPEN_SHORT']);
    expect(orchestrator.state.position).toBe(PositionSide.SHORT);
  });

  it('live replay and backtest decide the same signals on the same candles', async () => {
    const candles = loadFixture('btcusdt-15m-sim-seed42.csv');
    const orchestrator = new Orchestrator({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger });
    const feed = new CsvReplayFeed({ symbol: 'BTCUSDT', interval: '15m', logger: silentLogger, candles });
    const emitted: StrategySignal[] = [];
    const runner = new StrategyRunner({ feed, orchestrator, logger: silentLogger, emit: async (s) => void emitted.push(s) });
    await runner.start();
    await feed.done;
    await runner.stop();
    const backtest = runBacktest({ candles });
    expect(emitted).toEqual(backtest.signals);
    expect(emitted.filter((s) => s.action === SignalAction.CLOSE).length).toBeGreaterThan(0);
  });

  it('refuses a feed for another market', () => {
    const feed = new CsvReplayFeed({ symbol: 'ETHUSDT', interval: '15m', logger: silentLogger, candles: [] });
    expect(() => new StrategyRunner({ feed, orchestrator: orchestratorWith(() => flat()), logger: silentLogger, emit: async () => undefined })).toThrow(
      'does not match',
    );
  });
});
