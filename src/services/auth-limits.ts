import type Redis from 'ioredis';
import { RateLimits, type LimitRule } from './rate-limits';

export type AuthLimitName =
  | 'loginAccount'
  | 'loginKnownNetwork'
  | 'loginNetwork'
  | 'loginGlobal'
  | 'register'
  | 'registerEmail'
  | 'resendNetwork'
  | 'resendEmail'
  | 'changePasswordUser'
  | 'changePasswordNetwork'
  | 'auditRefusal';

export type AuthLimits = RateLimits<AuthLimitName>;

export interface AuthLimitSettings {
  /**
   * Wrong passwords per client network per 15 minutes, across accounts (credential stuffing):
   * sign-ins and changePassword's current password each count on their own.
   */
  networkFailures: number;
  /** Failed sign-ins per minute across the cluster from networks unknown to the account. */
  globalFailures: number;
  /** Sign-ups, and verification mails asked for, per client network per hour. */
  signupNetwork: number;
}

const FIFTEEN_MINUTES = 15 * 60;

/**
 * Every limit on the sign-in and sign-up paths. The per-account rule is the
 * PRD's (5 failures lock for 15 minutes); the others are documented in
 * docs/decisions.md ("Sign-in abuse").
 */
export function authLimitRules(settings: AuthLimitSettings): Record<AuthLimitName, LimitRule> {
  const lockout = { points: 5, windowSeconds: FIFTEEN_MINUTES, blockSeconds: FIFTEEN_MINUTES };
  return {
    loginAccount: { ...lockout, message: 'Too many failed sign-ins' },
    loginKnownNetwork: { ...lockout, message: 'Too many failed sign-ins' },
    loginNetwork: {
      points: settings.networkFailures,
      windowSeconds: FIFTEEN_MINUTES,
      blockSeconds: FIFTEEN_MINUTES,
      message: 'Too many failed sign-ins from your network',
    },
    loginGlobal: {
      points: settings.globalFailures,
      windowSeconds: 60,
      message: 'Sign-ins from new locations are paused for a moment because of unusual activity',
    },
    register: { points: settings.signupNetwork, windowSeconds: 3600, message: 'Too many sign-ups from your network' },
    // Counted for every address, taken or not, so the refusal tells nothing; a person retrying their sign-up stays far under it.
    registerEmail: { points: 10, windowSeconds: 3600, message: 'Too many sign-ups for this email address' },
    resendNetwork: { points: settings.signupNetwork, windowSeconds: 3600, message: 'Too many verification mails asked for from your network' },
    resendEmail: { points: 3, windowSeconds: 3600, message: 'Too many verification mails asked for this address' },
    changePasswordUser: { ...lockout, message: 'Too many wrong current passwords' },
    changePasswordNetwork: {
      points: settings.networkFailures,
      windowSeconds: FIFTEEN_MINUTES,
      blockSeconds: FIFTEEN_MINUTES,
      message: 'Too many wrong current passwords from your network',
    },
    // One audit row per refused key and minute: a flood of refusals must not become a flood of inserts.
    auditRefusal: { points: 1, windowSeconds: 60, message: 'audit throttle' },
  };
}

export function createAuthLimits(redis: Redis | null, settings: AuthLimitSettings): AuthLimits {
  return new RateLimits(redis, 'auth', authLimitRules(settings));
}
