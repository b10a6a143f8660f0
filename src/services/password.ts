import { createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';
import { badInput } from '../errors/app-error';
import { isCommonPassword } from './common-passwords';

const BCRYPT_COST = 12;
/** ASVS 4.0.3 2.1.1/2.1.2, 5.0 6.2.1/6.2.9: at least 8 characters, at least 64 allowed, more than 128 refused. */
export const MIN_PASSWORD_CHARS = 8;
export const MAX_PASSWORD_CHARS = 128;
/** bcrypt reads only the first 72 bytes of its input. */
const BCRYPT_MAX_BYTES = 72;
/** Domain separation for the pre-hash; not a secret (see bcryptInput). */
const PREHASH_KEY = 'btc-saas/bcrypt-prehash/v1';
// C0/C1 controls, line/paragraph separators: not printable, and NUL cannot be stored or compared safely.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029]/u;

/**
 * The one password policy, for every place a password is set (register,
 * changePassword, password reset). Length counts Unicode characters (code
 * points), so 64 emoji (256 bytes) are fine; any printable character is
 * allowed and no composition rule applies (ASVS 2.1.4, 2.1.9). Passwords
 * found in breach corpora, or equal to the account's email, are refused
 * (ASVS 2.1.7, 5.0 6.2.4/6.2.11), saying why.
 */
export function assertPasswordPolicy(password: string, field = 'password', context: { email?: string | null } = {}): void {
  const chars = [...password].length;
  if (chars < MIN_PASSWORD_CHARS) throw badInput(`${field} must be at least ${MIN_PASSWORD_CHARS} characters`, field);
  if (chars > MAX_PASSWORD_CHARS) throw badInput(`${field} must be at most ${MAX_PASSWORD_CHARS} characters`, field);
  if (UNPRINTABLE.test(password)) throw badInput(`${field} must not contain control characters`, field);
  if (isCommonPassword(password)) {
    throw badInput(`${field} is one of the most common passwords found in data breaches; choose another`, field);
  }
  const email = context.email?.toLowerCase();
  const lowered = password.toLowerCase();
  if (email && (lowered === email || lowered === email.split('@')[0])) {
    throw badInput(`${field} must not be your email address`, field);
  }
}

/**
 * What bcrypt is given. Up to 72 bytes: the password itself, exactly as
 * every stored hash was made (nothing longer could be set before), so no
 * hash needs redoing. Longer: base64 of HMAC-SHA-256 over the whole
 * password (44 ASCII bytes, no NUL), so no byte is ever ignored. The rule
 * depends only on the presented password, never on the stored hash.
 * Keyed rather than a bare SHA-256 so a leaked list of plain SHA-256
 * hashes cannot be tested against ours ("password shucking"; OWASP
 * Password Storage Cheat Sheet, "Pre-Hashing Passwords with bcrypt").
 */
function bcryptInput(password: string): string {
  if (Buffer.byteLength(password, 'utf8') <= BCRYPT_MAX_BYTES) return password;
  return createHmac('sha256', PREHASH_KEY).update(password, 'utf8').digest('base64');
}

/** The async API runs on libuv's pool, so a cost-12 hash never blocks the event loop. */
export const hashPassword = (password: string) => bcrypt.hash(bcryptInput(password), BCRYPT_COST);

export const verifyPassword = (password: string, hash: string) => bcrypt.compare(bcryptInput(password), hash);

// A real hash of a random value: comparing against it costs what a real check costs,
// so an unknown email answers as slowly as a wrong password.
const DUMMY_HASH = '$2b$12$.5yvNJdITFsQiXA3a5VB6u37BIJRepJPc0D/iCoEAOxmG.YrlCGxa';
export const burnPasswordCheck = (password: string) => bcrypt.compare(bcryptInput(password), DUMMY_HASH).then(() => false);
