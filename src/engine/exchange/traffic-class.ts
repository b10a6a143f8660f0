import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who an exchange request is for, carried through the async calls that lead
 * to it: signal execution (may spend the whole weight budget), background
 * work (reconciliation, streams, prices: waits once it has spent its share)
 * and user-triggered calls (a key verification: refused at once once it has
 * spent its share). The IP's weight budget is shared by every user, so one
 * user's calls must never leave the signals without it.
 */
export type TrafficClass = 'execution' | 'background' | 'user';

const current = new AsyncLocalStorage<TrafficClass>();

export function withTrafficClass<T>(kind: TrafficClass, work: () => Promise<T>): Promise<T> {
  return current.run(kind, work);
}

export function currentTrafficClass(): TrafficClass {
  return current.getStore() ?? 'background';
}
