import { Filter } from '@mikro-orm/core';

export const OWNER_FILTER = 'owner';

/**
 * Every user-owned entity carries this filter, on by default: a query made
 * without `em.setFilterParams(OWNER_FILTER, { userId })` throws, and one made
 * with it only sees that user's rows. Cross-user code (admin, engine fan-out)
 * turns it off explicitly with `filters: { owner: false }`.
 */
export const OwnedByUser = () =>
  Filter({ name: OWNER_FILTER, cond: (args: { userId: string }) => ({ user: args.userId }), default: true });

/** Find options for cross-user code (admin, engine fan-out, token look-ups): the owner filter off, explicitly. */
export const WITHOUT_OWNER = { filters: { [OWNER_FILTER]: false } } as const;
