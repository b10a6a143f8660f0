import { KeyDecryptError } from './key-cipher';

/** Seals job payloads with the master key (AES-256-GCM, KeyCipher), `context` in the AAD. */
export interface PayloadSealer {
  encrypt(plaintext: string, context: string): string;
  decrypt(ciphertext: string, context: string): string;
}

/**
 * The part of a queued job that names a person (an address, a client IP, a
 * mail's contents): sealed before it reaches the job table, bound to one task
 * by `context`, so neither the table nor a job log shows it.
 */
export class SealedJobData<T> {
  constructor(
    private readonly sealer: PayloadSealer,
    /** Never a user id (those are UUIDs): a sealed job cannot pass for a user's exchange credentials. */
    private readonly context: string,
  ) {}

  seal(value: T): string {
    return this.sealer.encrypt(JSON.stringify(value), this.context);
  }

  /** Null when it was sealed under a master key this node no longer holds: no retry can read it. Other failures throw. */
  open(sealed: string): T | null {
    try {
      return JSON.parse(this.sealer.decrypt(sealed, this.context)) as T;
    } catch (err) {
      if (err instanceof KeyDecryptError) return null;
      throw err;
    }
  }
}
