import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { CredentialsUnreadableError } from '../engine/ports';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_CHARS = 8;

/** Tampered, moved to another user, or sealed under a master key we no longer hold: never a partial answer. */
export class KeyDecryptError extends CredentialsUnreadableError {
  constructor(message = 'Stored exchange credentials could not be decrypted') {
    super(message);
    this.name = 'KeyDecryptError';
  }
}

/** Short public fingerprint of a master key, written in every ciphertext so rotation can find the right key. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('key-cipher:key-id:').update(key).digest('base64url').slice(0, KEY_ID_CHARS);
}

/**
 * AES-256-GCM for users' exchange credentials: a fresh random 96-bit nonce
 * per encryption, the full 128-bit tag, and the user id in the AAD so a
 * ciphertext copied onto another user's row fails. Format:
 * `v1:<keyId>:<base64(nonce | tag | ciphertext)>`.
 */
export class KeyCipher {
  private readonly currentId: string;
  private readonly previousId: string | null;

  constructor(private readonly current: Buffer, private readonly previous: Buffer | null = null) {
    if (current.length !== 32) throw new Error('MASTER_KEY must be 32 bytes');
    if (previous && previous.length !== 32) throw new Error('MASTER_KEY_PREVIOUS must be 32 bytes');
    this.currentId = masterKeyId(current);
    this.previousId = previous ? masterKeyId(previous) : null;
  }

  get keyId(): string {
    return this.currentId;
  }

  encrypt(plaintext: string, userId: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(userId, this.currentId));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const blob = Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64');
    return `${VERSION}:${this.currentId}:${blob}`;
  }

  decrypt(ciphertext: string, userId: string): string {
    const { keyId, blob } = parse(ciphertext);
    const key = keyId === this.currentId ? this.current : keyId === this.previousId ? this.previous : null;
    if (!key) throw new KeyDecryptError('Stored exchange credentials are sealed with an unknown master key');
    if (blob.length < NONCE_BYTES + TAG_BYTES) throw new KeyDecryptError();
    const nonce = blob.subarray(0, NONCE_BYTES);
    const tag = blob.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES);
    try {
      // authTagLength pins the tag at 16 bytes: a truncated tag can't be accepted (Node DEP0182).
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(userId, keyId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(blob.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new KeyDecryptError();
    }
  }

  /** True when the value is not sealed under the current master key (or is not ours at all). */
  needsRotation(ciphertext: string): boolean {
    try {
      return parse(ciphertext).keyId !== this.currentId;
    } catch {
      return true;
    }
  }
}

function aad(userId: string, keyId: string): Buffer {
  return Buffer.from(`exchange-credential:${VERSION}:${userId}:${keyId}`, 'utf8');
}

function parse(ciphertext: string): { keyId: string; blob: Buffer } {
  const parts = ciphertext.split(':');
  if (parts.length !== 3 || parts[0] !== VERSION || parts[1].length !== KEY_ID_CHARS) {
    throw new KeyDecryptError('Stored exchange credentials have an unknown format');
  }
  return { keyId: parts[1], blob: Buffer.from(parts[2], 'base64') };
}
