import type { LimitRule } from './rate-limits';

/**
 * Anti-automation on the account life cycle. Per address and per client IP,
 * counted alike for addresses with and without an account, so a refusal says
 * nothing about whether one exists.
 */
export const ACCOUNT_LIMITS = {
  /** A person who lost their password asks a few times; a flood at one victim's inbox stops here. */
  passwordResetPerEmail: { points: 3, windowSeconds: 60 * 60, message: 'Too many password-reset requests for this email address' },
  /** One client sweeping many addresses. */
  passwordResetPerIp: { points: 20, windowSeconds: 60 * 60, message: 'Too many password-reset requests from your network address' },
  /** Email-change requests per account (each mails an address of the requester's choosing). */
  emailChangePerUser: { points: 5, windowSeconds: 60 * 60, message: 'Too many email-change requests' },
  /** One audit row per refused key and minute: a flood of refusals must not become a flood of inserts. */
  auditRefusal: { points: 1, windowSeconds: 60, message: 'audit throttle' },
} satisfies Record<string, LimitRule>;

export type AccountLimit = keyof typeof ACCOUNT_LIMITS;
