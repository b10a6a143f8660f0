import Decimal from 'decimal.js';
import { slippageRatio } from '../../src/engine/execution/slippage';

const d = (v: string) => new Decimal(v);

describe('slippageRatio', () => {
  it('is positive when a BUY fills above the reference (worse for the user)', () => {
    expect(slippageRatio('BUY', d('60060'), d('60000')).toFixed()).toBe('0.001');
  });

  it('is negative when a BUY fills below the reference', () => {
    expect(slippageRatio('BUY', d('59940'), d('60000')).toFixed()).toBe('-0.001');
  });

  it('is positive when a SELL fills below the reference (worse for the user)', () => {
    expect(slippageRatio('SELL', d('59970'), d('60000')).toFixed()).toBe('0.0005');
  });

  it('is negative when a SELL fills above the reference', () => {
    expect(slippageRatio('SELL', d('60030'), d('60000')).toFixed()).toBe('-0.0005');
  });

  it('is zero at the reference and refuses a non-positive reference', () => {
    expect(slippageRatio('BUY', d('60000'), d('60000')).isZero()).toBe(true);
    expect(() => slippageRatio('SELL', d('60000'), d('0'))).toThrow(RangeError);
  });
});
