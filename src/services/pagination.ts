import { badInput } from '../errors/app-error';
import { isStorableDate } from './storable-date';
import { isUuid } from './ids';

export const MAX_PAGE_SIZE = 200;

/** `first` bounded so a client cannot ask for an unbounded page. */
export function pageSize(first: number | null | undefined, fallback: number): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE_SIZE) {
    throw badInput(`first must be a whole number from 1 to ${MAX_PAGE_SIZE}`, 'first');
  }
  return n;
}

export interface KeysetCursor {
  at: Date;
  id: string;
}

/** Opaque keyset cursor over (timestamp desc, id desc). */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): KeysetCursor | null {
  if (!cursor) return null;
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  // A forged cursor may carry any date; one outside 0001–9999 would fail in the database, not here.
  if (!id || !isStorableDate(at) || !isUuid(id)) throw badInput('after is not a valid cursor', 'after');
  return { at, id };
}

/** The keyset condition "strictly after this cursor" in descending order, for a MikroORM where clause. */
export function afterCursor<K extends string>(cursor: KeysetCursor | null, timeField: K) {
  if (!cursor) return {};
  return {
    $or: [{ [timeField]: { $lt: cursor.at } }, { [timeField]: cursor.at, id: { $lt: cursor.id } }],
  } as Record<string, unknown>;
}

/** Fetches one row more than asked to know whether a next page exists. */
export function toPage<T extends { id: string }>(rows: T[], size: number, timeOf: (row: T) => Date) {
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > size && last ? encodeCursor(timeOf(last), last.id) : null };
}
