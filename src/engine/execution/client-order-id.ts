import { createHash } from 'node:crypto';

/** Binance's rule for `newClientOrderId` (notes/binance.md §0.3). */
export const CLIENT_ORDER_ID_PATTERN = /^[.A-Z:/a-z0-9_-]{1,36}$/;
export const CLIENT_ORDER_ID_MAX_LENGTH = 36;
/** Below ~95 bits a collision between two (signal, user) pairs stops being negligible. */
const MIN_HASH_CHARS = 16;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The client order id of one user's order for one signal: the venue's prefix
 * (the `binance` package warns and prints the order params for ids without
 * its broker prefix, notes/binance.md §0.4) followed by base-62 digits of
 * sha256(signalId:userId), filling the id to 36 characters. Deterministic, so
 * every retry, resend and lookup of that order uses the same id and the
 * exchange can never hold two orders of ours for the same (signal, user).
 * Both ids are UUIDs, so the ':' separator is unambiguous.
 */
export function deriveClientOrderId(prefix: string, signalId: string, userId: string): string {
  if (prefix !== '' && !CLIENT_ORDER_ID_PATTERN.test(prefix)) {
    throw new RangeError(`client order id prefix "${prefix}" has characters Binance does not accept`);
  }
  const hashChars = CLIENT_ORDER_ID_MAX_LENGTH - prefix.length;
  if (hashChars < MIN_HASH_CHARS) {
    throw new RangeError(`client order id prefix "${prefix}" leaves fewer than ${MIN_HASH_CHARS} characters for the hash`);
  }
  const digest = createHash('sha256').update(`${signalId}:${userId}`).digest('hex');
  // The low-order digits of a 256-bit number are uniform; its top digit is not, so we keep the low ones.
  let n = BigInt(`0x${digest}`);
  let digits = '';
  for (let i = 0; i < hashChars; i++) {
    digits = BASE62[Number(n % 62n)] + digits;
    n /= 62n;
  }
  return prefix + digits;
}
