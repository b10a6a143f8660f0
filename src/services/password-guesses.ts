import { AppError } from '../errors/app-error';
import type { AuthLimitName, AuthLimits } from './auth-limits';
import type { AuthLockStore } from './auth-locks';

/** Which counter held or locked a password guess. */
export type GuessCounterKind = 'account' | 'knownNetwork' | 'network' | 'global';

export interface GuessCounter {
  kind: GuessCounterKind;
  name: AuthLimitName;
  key: string;
  /** A right password clears it (one account's own counter) or only gives back its own point (shared counters). */
  clearOnSuccess: boolean;
}

export interface GuessReservation {
  /** The password was right. */
  succeeded(): Promise<void>;
  /** The guess failed; answers the counters this failure locked. */
  failed(): Promise<GuessCounterKind[]>;
}

export type GuessOutcome = { reservation: GuessReservation } | { refused: { by: GuessCounterKind; error: AppError } };

export interface SignInAttempt {
  /** Canonical email as typed, account or not: an unknown email is counted like a known one. */
  email: string;
  userId: string | null;
  /** The client's network (client-ip.ts). */
  network: string;
  /** This account has signed in successfully from this network before. */
  knownNetwork: boolean;
}

/**
 * The counters a sign-in spends. From a network the account has signed in
 * from before, only that (account, network) pair's own 5-in-15-minutes
 * counter: what strangers do elsewhere cannot lock the owner out (ASVS 4.0.3
 * 2.2.1, 5.0 6.1.1). From any other network: the network's failures across
 * all accounts (credential stuffing), the cluster-wide failure rate
 * (stuffing spread over many networks) and the account's own failures (the
 * PRD's lockout).
 */
export function signInCounters(attempt: SignInAttempt): GuessCounter[] {
  if (attempt.knownNetwork && attempt.userId) {
    return [{ kind: 'knownNetwork', name: 'loginKnownNetwork', key: `${attempt.userId}|${attempt.network}`, clearOnSuccess: true }];
  }
  return [
    { kind: 'network', name: 'loginNetwork', key: attempt.network, clearOnSuccess: false },
    { kind: 'global', name: 'loginGlobal', key: 'all', clearOnSuccess: false },
    { kind: 'account', name: 'loginAccount', key: attempt.email, clearOnSuccess: true },
  ];
}

/** changePassword's current-password guesses, by a signed-in session (a stolen token must not brute-force it). */
export function currentPasswordCounters(userId: string, network: string): GuessCounter[] {
  return [
    { kind: 'network', name: 'changePasswordNetwork', key: network, clearOnSuccess: false },
    { kind: 'account', name: 'changePasswordUser', key: userId, clearOnSuccess: true },
  ];
}

/**
 * Decides, before a password is checked, whether the guess may be tried.
 * Each guess first reserves a point on every counter that applies, so two
 * guesses racing at the fifth failure cannot both be tried, and a right
 * password gives the point back. A lock, once reached, is also recorded in
 * PostgreSQL and consulted first: the counters fall back to each node's
 * memory, from zero, while Redis is away, and a lock must not end with them.
 */
export class PasswordGuessGuard {
  constructor(
    private readonly limits: AuthLimits,
    private readonly locks: Pick<AuthLockStore, 'lock' | 'held'>,
  ) {}

  async reserve(counters: GuessCounter[]): Promise<GuessOutcome> {
    const lockable = counters.filter((c) => this.limits.ruleOf(c.name).blockSeconds);
    const held = await this.locks.held(lockable);
    if (held) {
      const by = lockable.find((c) => c.name === held.name)!;
      return { refused: { by: by.kind, error: this.limits.refusalOf(by.name, held.retryAfterSeconds) } };
    }
    const taken: GuessCounter[] = [];
    const spentAt = new Map<GuessCounter, number>();
    for (const counter of counters) {
      try {
        spentAt.set(counter, await this.limits.consume(counter.name, counter.key));
        taken.push(counter);
      } catch (err) {
        // Nothing was tried: what this guess reserved on the other counters is given back.
        await Promise.all(taken.map((t) => this.limits.refund(t.name, t.key)));
        if (err instanceof AppError) return { refused: { by: counter.kind, error: err } };
        throw err;
      }
    }
    return {
      reservation: {
        succeeded: async () => {
          await Promise.all(
            counters.map((c) => (c.clearOnSuccess ? this.limits.reset(c.name, c.key) : this.limits.refund(c.name, c.key))),
          );
        },
        failed: async () => {
          const locked: GuessCounterKind[] = [];
          for (const c of counters) {
            const rule = this.limits.ruleOf(c.name);
            // The guess that took the last point locks, so the lock starts at that failure and is
            // reported once however many guesses race; unless a right password cleared the
            // counter meanwhile.
            if (rule.blockSeconds && spentAt.get(c) === rule.points && (await this.limits.spent(c.name, c.key)) >= rule.points) {
              await this.locks.lock(c.name, c.key, rule.blockSeconds);
              await this.limits.block(c.name, c.key);
              locked.push(c.kind);
            }
          }
          return locked;
        },
      },
    };
  }
}
