import { randomUUID } from 'node:crypto';
import { CLIENT_ORDER_ID_PATTERN, deriveClientOrderId } from '../../src/engine/execution/client-order-id';

const BINANCE_PREFIX = 'x-15PC4ZJy';
const SIGNAL = '6f1c2a4e-8d3b-4c71-9a0e-2b5d7f3e9c10';
const USER = '0b9e7d52-1f4a-4e38-b6c2-7a8d9e0f1a2b';

describe('deriveClientOrderId', () => {
  it('matches the golden value (base-62 of sha256("signalId:userId"), computed independently)', () => {
    expect(deriveClientOrderId(BINANCE_PREFIX, SIGNAL, USER)).toBe('x-15PC4ZJyMLPssdhIGgKR989h2RrTdCU0TG');
    expect(deriveClientOrderId('', SIGNAL, USER)).toBe('m4YcFkfaB5MLPssdhIGgKR989h2RrTdCU0TG');
  });

  it('starts with the prefix, is 36 characters and matches Binance\'s pattern', () => {
    const id = deriveClientOrderId(BINANCE_PREFIX, SIGNAL, USER);
    expect(id.startsWith(BINANCE_PREFIX)).toBe(true);
    expect(id).toHaveLength(36);
    expect(id).toMatch(CLIENT_ORDER_ID_PATTERN);
  });

  it('gives the same id for the same pair, every time', () => {
    expect(deriveClientOrderId(BINANCE_PREFIX, SIGNAL, USER)).toBe(deriveClientOrderId(BINANCE_PREFIX, SIGNAL, USER));
  });

  it('gives different ids for different pairs, including the swapped pair', () => {
    expect(deriveClientOrderId(BINANCE_PREFIX, USER, SIGNAL)).not.toBe(deriveClientOrderId(BINANCE_PREFIX, SIGNAL, USER));
    const signals = Array.from({ length: 20 }, () => randomUUID());
    const users = Array.from({ length: 100 }, () => randomUUID());
    const ids = new Set(signals.flatMap((s) => users.map((u) => deriveClientOrderId(BINANCE_PREFIX, s, u))));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(CLIENT_ORDER_ID_PATTERN);
  });

  it('refuses a prefix Binance would reject or one that leaves too little room for the hash', () => {
    expect(() => deriveClientOrderId('x 15PC', SIGNAL, USER)).toThrow(RangeError);
    expect(() => deriveClientOrderId('x-'.repeat(11), SIGNAL, USER)).toThrow(RangeError);
  });
});
