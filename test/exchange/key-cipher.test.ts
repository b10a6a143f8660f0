import { randomBytes, randomUUID } from 'node:crypto';
import { KeyCipher, KeyDecryptError, masterKeyId } from '../../src/services/key-cipher';

describe('KeyCipher', () => {
  const master = randomBytes(32);
  const cipher = new KeyCipher(master);
  const alice = randomUUID();
  const bob = randomUUID();

  it('round-trips, with a fresh nonce and the key id on every ciphertext', () => {
    const a = cipher.encrypt('my-binance-secret', alice);
    const b = cipher.encrypt('my-binance-secret', alice);
    expect(a).not.toBe(b);
    expect(a.startsWith(`v1:${masterKeyId(master)}:`)).toBe(true);
    expect(a).not.toContain('my-binance-secret');
    expect(cipher.decrypt(a, alice)).toBe('my-binance-secret');
    expect(cipher.decrypt(cipher.encrypt('', alice), alice)).toBe('');
    // nonce 12 + tag 16 + 17 bytes of text
    expect(Buffer.from(a.split(':')[2], 'base64')).toHaveLength(12 + 16 + 17);
  });

  it('rejects a tampered ciphertext, tag or nonce', () => {
    const sealed = cipher.encrypt('secret', alice);
    const [v, id, b64] = sealed.split(':');
    const blob = Buffer.from(b64, 'base64');
    for (const index of [0, 12, 20, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[index] ^= 0x01;
      expect(() => cipher.decrypt(`${v}:${id}:${bad.toString('base64')}`, alice)).toThrow(KeyDecryptError);
    }
    // A truncated tag must not pass (authTagLength 16).
    const short = Buffer.concat([blob.subarray(0, 12 + 8), blob.subarray(12 + 16)]);
    expect(() => cipher.decrypt(`${v}:${id}:${short.toString('base64')}`, alice)).toThrow(KeyDecryptError);
    expect(() => cipher.decrypt('garbage', alice)).toThrow(KeyDecryptError);
  });

  it("fails when a ciphertext is moved to another user's row", () => {
    const sealed = cipher.encrypt('secret', alice);
    expect(() => cipher.decrypt(sealed, bob)).toThrow(KeyDecryptError);
  });

  it('decrypts with the previous master key during rotation and flags what needs re-encryption', () => {
    const next = randomBytes(32);
    const rotating = new KeyCipher(next, master);
    const old = cipher.encrypt('secret', alice);
    expect(rotating.needsRotation(old)).toBe(true);
    expect(rotating.decrypt(old, alice)).toBe('secret');
    const fresh = rotating.encrypt('secret', alice);
    expect(rotating.needsRotation(fresh)).toBe(false);
    expect(fresh.split(':')[1]).toBe(masterKeyId(next));
    // Once the previous key is dropped, old ciphertexts are refused, not guessed at.
    expect(() => new KeyCipher(next).decrypt(old, alice)).toThrow(KeyDecryptError);
    expect(() => cipher.decrypt(fresh, alice)).toThrow(/unknown master key/);
  });

  it('refuses master keys that are not 32 bytes', () => {
    expect(() => new KeyCipher(randomBytes(16))).toThrow();
  });
});
