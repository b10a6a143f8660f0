import type { EntityManager } from '@mikro-orm/postgresql';
import type { Signal } from '../entities/signal.entity';
import type { StoredVote } from '../entities/signal.entity';
import type { SignalAction } from '../entities/enums';

/**
 * What the engine needs from the rest of the application, in the engine's own
 * terms. The application implements these (services, realtime, app); the engine
 * never imports from `services/`, `schema/` or `app/`.
 */

/** Opens API credentials sealed to one user (AES-256-GCM, user id as AAD). */
export interface CredentialCipher {
  decrypt(ciphertext: string, userId: string): string;
}

/** Stored credentials that cannot be opened: tampered, copied from another user's row, or sealed under a retired master key. */
export class CredentialsUnreadableError extends Error {
  constructor(message = 'the stored API credentials could not be decrypted') {
    super(message);
    this.name = 'CredentialsUnreadableError';
  }
}

export type KeyRefusalSource = 'FAN_OUT' | 'RECONCILER' | 'USER_STREAM';

/**
 * The exchange refused a user's key while the engine used it (revoked,
 * permissions changed) or the stored key cannot be read. The account side
 * switches the key off, audits it, tells the user and every node.
 */
export interface KeyHealth {
  keyRefused(userId: string, reason: string, source: KeyRefusalSource): Promise<void>;
}

/** Engine messages every node hears: the leader's market prices, users whose cached state is stale. */
export interface ClusterChannel {
  publish(topic: string, payload: unknown): void;
  subscribe<T>(topic: string): AsyncIterable<T> & AsyncIterator<T>;
}

/** Appends to the audit trail inside the caller's unit of work. */
export interface AuditTrail {
  record(em: EntityManager, entry: { action: string; userId?: string | null; actorId?: string | null; detail?: string | null; ip?: string | null }): unknown;
}

export interface StrategySignalRecord {
  action: SignalAction;
  symbol: string;
  interval: string;
  strength: string | number;
  referencePrice: string | null;
  votes: StoredVote[];
  candleTime: Date;
  reason: string | null;
}

/** Stores (and announces) a strategy signal; null when another node already stored this very one. */
export interface SignalStore {
  recordStrategySignal(em: EntityManager, input: StrategySignalRecord): Promise<Signal | null>;
}

/** Mails and other user-facing notices the engine's risk side triggers. */
export interface RiskNotifier {
  riskLocked(userId: string, reason: string): void;
  riskLifted(userId: string, reason: string): void;
}

/** Wall-clock time for business periods (UTC day, ISO week); tests move it. */
export interface Clock {
  now(): Date;
}

export const systemWallClock: Clock = { now: () => new Date() };
