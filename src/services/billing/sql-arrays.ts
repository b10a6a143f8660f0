import { isUuid } from '../ids';

/**
 * A uuid[] parameter as PostgreSQL's array literal: the query builder would
 * spread a JS array into one placeholder per element (and hit the parameter
 * limit on a large platform). Only well-formed ids get here.
 */
export function uuidArray(ids: string[]): string {
  if (!ids.every(isUuid)) throw new Error('uuidArray takes uuids only');
  return `{${ids.join(',')}}`;
}
