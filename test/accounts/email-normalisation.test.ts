import { AppError } from '../../src/errors/app-error';
import { canonicalEmailText, normalizeEmail } from '../../src/services/email';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as AppError).code;
  }
};

describe('email normalisation', () => {
  it.each([
    ['  Alice@Example.COM ', 'alice@example.com'],
    ['ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ', 'alice@example.com'], // full-width letters
    ['alice＠example.com', 'alice@example.com'], // full-width @
    ['ﬁnance@example.com', 'finance@example.com'], // ligature
    ['alice@example.com\u3000', 'alice@example.com'], // ideographic space
    ['ALİCE@example.com'.normalize('NFKC'), 'ALİCE@example.com'.normalize('NFKC').toLowerCase()],
  ])('maps %j to %j', (raw, expected) => {
    expect(normalizeEmail(raw)).toBe(expected);
  });

  it.each([
    ['a NUL byte', 'alice\u0000@example.com'],
    ['a control character', 'alice\u0007@example.com'],
    ['a zero-width space', 'al\u200bice@example.com'],
    ['a right-to-left mark', 'alice\u200f@example.com'],
    ['a byte-order mark', '\ufeffalice@example.com'],
    ['not an address', 'alice'],
    ['an address over 320 characters', `${'a'.repeat(64)}@${'b'.repeat(250)}.${'c'.repeat(10)}`],
  ])('refuses %s with BAD_USER_INPUT', (_label, raw) => {
    expect(codeOf(() => normalizeEmail(raw))).toBe('BAD_USER_INPUT');
  });

  it('normalises search fragments the same way without requiring a whole address', () => {
    expect(canonicalEmailText(' ＡＬＩＣＥ ')).toBe('alice');
    expect(codeOf(() => canonicalEmailText('a\u0000'))).toBe('BAD_USER_INPUT');
  });
});
