import { isEmail } from 'class-validator';
import { badInput } from '../errors/app-error';

export const MAX_EMAIL_CHARS = 320;
// Controls (NUL included), invisible format characters (zero-width space and joiners, bidi marks,
// BOM), line/paragraph separators, private-use and unassigned code points: never part of an address,
// and a zero-width character would make a second account that looks identical.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\u2028\u2029]/u;

/**
 * The canonical text of an email, used wherever one is compared or stored:
 * Unicode NFKC (full-width letters, ligatures and other compatibility forms
 * become their plain letters), surrounding white space removed, lower case.
 * Refuses invisible and control characters with BAD_USER_INPUT. Also used
 * for fragments (the admin's search), so it does not check the format.
 */
export function canonicalEmailText(raw: string, field = 'email'): string {
  if (INVISIBLE.test(raw)) throw badInput(`${field} must not contain control or invisible characters`, field);
  // NFKC first: it turns e.g. an ideographic space into a plain one, which trim then removes.
  return raw.normalize('NFKC').trim().toLowerCase();
}

/** A canonical, well-formed email address (register, login, resend, email change, admin bootstrap). */
export function normalizeEmail(raw: string, field = 'email'): string {
  const email = canonicalEmailText(raw, field);
  if (email.length > MAX_EMAIL_CHARS || !isEmail(email)) throw badInput(`${field} must be a valid email address`, field);
  return email;
}
