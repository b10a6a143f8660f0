import type { EntityManager } from '@mikro-orm/postgresql';
import { EmailToken } from '../entities/email-token.entity';
import type { EmailTokenPurpose } from '../entities/enums';
import { WITHOUT_OWNER } from '../entities/owner-filter';
import { User } from '../entities/user.entity';
import { hashToken, newOpaqueToken } from './token.service';

/** Why a presented token cannot be used. */
export type TokenProblem = 'unknown' | 'used' | 'expired';

/** newOpaqueToken's shape: 32 random bytes, base64url. Anything else is unknown without a database round trip. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Single-use tokens mailed to an address (sign-up, password reset, email
 * change). The database holds only their SHA-256; a token is spent by the one
 * statement that flips `used_at`, so two requests racing with the same token
 * cannot both use it.
 */
export class EmailTokenService {
  constructor(private readonly clock: () => Date = () => new Date()) {}

  /** Persists a new token in `em`'s unit of work and returns the raw token for the mail (never stored). */
  issue(
    em: EntityManager,
    userId: string,
    purpose: EmailTokenPurpose,
    ttlMs: number,
    extra: { newEmail?: string; sessionId?: string | null } = {},
  ): string {
    const token = newOpaqueToken();
    const now = this.clock();
    em.create(EmailToken, {
      user: em.getReference(User, userId),
      purpose,
      tokenHash: hashToken(token),
      expiresAt: new Date(now.getTime() + ttlMs),
      newEmail: extra.newEmail ?? null,
      sessionId: extra.sessionId ?? null,
      createdAt: now,
    });
    return token;
  }

  /** Looks a token up without spending it. */
  async find(em: EntityManager, token: string, purposes: EmailTokenPurpose[]): Promise<{ row: EmailToken } | { problem: TokenProblem }> {
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return { problem: 'unknown' };
    const row = await em.findOne(
      EmailToken,
      { tokenHash: hashToken(token), purpose: { $in: purposes } },
      { ...WITHOUT_OWNER, populate: ['user'] },
    );
    if (!row) return { problem: 'unknown' };
    if (row.usedAt) return { problem: 'used' };
    if (row.expiresAt <= this.clock()) return { problem: 'expired' };
    return { row };
  }

  /** Spends the token; false when another request spent it first or it expired meanwhile. */
  async claim(em: EntityManager, row: EmailToken): Promise<boolean> {
    const now = this.clock();
    const claimed = await em.nativeUpdate(EmailToken, { id: row.id, usedAt: null, expiresAt: { $gt: now } }, { usedAt: now }, WITHOUT_OWNER);
    return claimed === 1;
  }

  /** Spends every open token of these purposes for the user, so only the newest link works. */
  async revokeOpen(em: EntityManager, userId: string, purposes: EmailTokenPurpose[]): Promise<void> {
    await em.nativeUpdate(EmailToken, { user: userId, purpose: { $in: purposes }, usedAt: null }, { usedAt: this.clock() }, WITHOUT_OWNER);
  }
}
