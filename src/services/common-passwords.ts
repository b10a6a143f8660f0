import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * About 49,000 passwords most often found in public breach corpora, shipped
 * inside the zxcvbn-ts package (lower case, most common first): nothing is
 * fetched at run time. Loaded on first use, then kept as a Set.
 */
let common: Set<string> | null = null;

/** Case-insensitive, and blind to full-width look-alikes ("ＰＡＳＳＷＯＲＤ１" is "password1"). */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(dictionary['passwords-common']);
  return common.has(password.normalize('NFKC').toLowerCase());
}
