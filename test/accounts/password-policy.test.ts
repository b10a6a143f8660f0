import bcrypt from 'bcrypt';
import { AppError } from '../../src/errors/app-error';
import { assertPasswordPolicy, hashPassword, verifyPassword } from '../../src/services/password';

const refusal = (password: string, context?: { email?: string }) => {
  try {
    assertPasswordPolicy(password, 'password', context);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BAD_USER_INPUT');
    return (err as AppError).message;
  }
};

describe('password policy', () => {
  it('accepts 8 to 128 printable characters of any script, counting characters rather than bytes', () => {
    expect(refusal('correct horse battery')).toBeNull();
    expect(refusal('😀'.repeat(64))).toBeNull(); // 256 bytes
    expect(refusal('密码'.repeat(64))).toBeNull(); // 128 characters, 384 bytes
    expect(refusal('x'.repeat(128))).toBeNull();
    expect(refusal('😀'.repeat(7))).toMatch(/at least 8 characters/);
    expect(refusal('x'.repeat(129))).toMatch(/at most 128 characters/);
  });

  it.each(['password1', 'PASSWORD1', 'PassWord1', 'qwertyuiop', 'iloveyou', '1q2w3e4r5t6y', 'ＰＡＳＳＷＯＲＤ１'])(
    'refuses the breached password %s, case-insensitively, saying why',
    (password) => {
      expect(refusal(password)).toMatch(/most common passwords found in data breaches/);
    },
  );

  it('refuses control characters and the account email as a password', () => {
    expect(refusal('good pass\u0000word')).toMatch(/control characters/);
    expect(refusal('good\npassword here')).toMatch(/control characters/);
    expect(refusal('Someone.Long@Example.com', { email: 'someone.long@example.com' })).toMatch(/email/);
    expect(refusal('someone.long', { email: 'someone.long@example.com' })).toMatch(/email/);
  });
});

describe('password hashing', () => {
  it('verifies a long multi-byte passphrase whole: a different last character is a different password', async () => {
    const passphrase = '😀'.repeat(63) + 'a'; // 256 bytes: bcrypt alone would only read the first 72
    const hash = await hashPassword(passphrase);
    expect(await verifyPassword(passphrase, hash)).toBe(true);
    expect(await verifyPassword('😀'.repeat(63) + 'b', hash)).toBe(false);
    expect(await verifyPassword('😀'.repeat(18), hash)).toBe(false); // the first 72 bytes alone
  });

  it('keeps every hash made before the pre-hash rule verifiable (plain bcrypt of up to 72 bytes)', async () => {
    const atLimit = 'é'.repeat(36); // exactly 72 bytes: the longest password the old policy allowed
    expect(Buffer.byteLength(atLimit)).toBe(72);
    expect(await verifyPassword(atLimit, await bcrypt.hash(atLimit, 4))).toBe(true);
    const short = await bcrypt.hash('correct horse battery', 4);
    expect(await verifyPassword('correct horse battery', short)).toBe(true);
    expect(await verifyPassword('correct horse batterY', short)).toBe(false);
  });
});
