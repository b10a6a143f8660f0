import { createHash } from 'node:crypto';
import Decimal from 'decimal.js';
import type { Logger } from 'pino';
import type { ExchangeGateway, KeyPermissions } from '../engine/exchange/exchange-gateway';
import { ExchangeError, AuthenticationError } from '../engine/exchange/exchange-errors';
import { Exchange, UserStatus } from '../entities/enums';
import { User } from '../entities/user.entity';
import { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import { badInput, notFound, rateLimited } from '../errors/app-error';
import { withTrafficClass } from '../engine/exchange/traffic-class';
import type { RateLimits } from './rate-limits';
import { assertAdmin } from './access';
import type { GatewayOpener } from '../engine/exchange/gateway-opener';
import { CredentialsUnreadableError, type CredentialCipher, type KeyHealth, type KeyRefusalSource } from '../engine/ports';
import type { MikroORM } from '@mikro-orm/postgresql';
import { OWNER_FILTER, WITHOUT_OWNER } from '../entities/owner-filter';
import type { AuditService } from './audit.service';
import type { NotificationService } from './notifications/notification.service';
import { PLAN_RULES } from '../domain/plans';
import type { SignedInScope } from './scope';

const BINANCE_KEY_SHAPE = /^[A-Za-z0-9]{64}$/;
/** Scale of the Ratio column (numeric(12,8)). */
const PCT_DECIMALS = 8;
/** Lazy (hidden) columns: load them wherever a gateway is opened from the config. */
export const CREDENTIALS = ['apiKeyEnc', 'apiSecretEnc'] as const;

export interface ExchangeConfigInputData {
  exchange?: Exchange | null;
  apiKey?: string | null;
  apiSecret?: string | null;
  testnet?: boolean | null;
  leverage?: number | null;
  maxPositionPct?: number | null;
}

/** Seals API credentials to one user (AES-256-GCM, user id as AAD); the engine only opens them. */
export interface CredentialSealer extends CredentialCipher {
  encrypt(plaintext: string, userId: string): string;
}

export interface VerifyOutcome {
  ok: boolean;
  reason: string | null;
  /** The exchange could not answer (down, throttled, no reply): says nothing about the key itself. */
  unreachable: boolean;
  config: UserExchangeConfig;
}

export interface VerifyOptions {
  /**
   * Leave the stored verdict as it is when the exchange is unreachable (the
   * default): an outage says nothing about the key, and must not invalidate,
   * and mail, every user.
   */
  keepVerdictWhenUnreachable?: boolean;
  /** Whose request this is on the exchange's shared weight budget: a user's (default) or the platform's background work. */
  trafficClass?: 'user' | 'background';
}

/** What one verification costs on Binance's futures weight budget (account 5 + position mode 30 + leverage 1 + apiRestrictions on SAPI). */
const VERIFY_WEIGHT = 36;
/** A key this node found valid this long ago, unchanged since, is answered from that verdict without asking the exchange. */
const VERDICT_FRESH_MS = 60_000;

/** What a verdict was reached on: the sealed key and the settings checked with it. Any change, or tampering, asks again. */
const verifiedFingerprint = (c: UserExchangeConfig) =>
  createHash('sha256').update([c.exchange, c.apiKeyEnc ?? '', c.apiSecretEnc ?? '', c.testnet, c.leverage].join('|')).digest('base64url');

/** The exchange's shared weight budget as the account side sees it: how long until a user's call would be allowed. */
export interface ExchangeBudget {
  waitForUserCallMs(weight: number): number;
}

export const maskApiKey = (key: string) => `${key.slice(0, 4)}…${key.slice(-4)}`;

/** Binding, verifying and removing a user's exchange account (DESIGN §4 "API key binding"). */
export class ExchangeConfigService implements KeyHealth {
  /** user id → fingerprint of the config this node last found valid (cleared by any other verdict). */
  private readonly validVerdicts = new Map<string, string>();

  constructor(
    private readonly deps: {
      orm: MikroORM;
      cipher: CredentialSealer;
      gateways: GatewayOpener;
      audit: AuditService;
      notifier: Pick<NotificationService, 'keyTurnedInvalid'>;
      logger: Logger;
      symbol: string;
      requireIpWhitelist: boolean;
      /** Told whenever a user's config changes, so cached engine state is dropped. */
      onChanged?: (userId: string) => void;
      /** Per-user limit on key verifications (each one costs the IP's shared weight). */
      limits: RateLimits<'verify'>;
      budget: ExchangeBudget;
    },
  ) {}

  get(scope: SignedInScope): Promise<UserExchangeConfig | null> {
    return scope.em.findOne(UserExchangeConfig, { user: scope.actor.id });
  }

  /** Admin: another user's config; the credentials are lazy columns and stay unloaded. */
  async configOf(scope: SignedInScope, userId: string): Promise<UserExchangeConfig | null> {
    assertAdmin(scope);
    return scope.em.findOne(UserExchangeConfig, { user: userId }, WITHOUT_OWNER);
  }

  /**
   * The engine found the key refused while trading (revoked, permissions
   * changed, or unreadable): it is switched off at once with the reason, the
   * change is audited and the user told, once — a key already off stays quiet.
   * The verdict and its audit row commit together: a key is never off without
   * its row (and so without its mail). Never throws: bookkeeping that fails is
   * logged, the key stays on, and the next refusal (the next signal or
   * reconciliation pass) tries again, while the caller's outcome keeps the
   * exchange's own reason.
   */
  async keyRefused(userId: string, reason: string, source: KeyRefusalSource): Promise<void> {
    let maskedKey: string | null;
    try {
      const em = this.deps.orm.em.fork();
      em.setFilterParams(OWNER_FILTER, { userId });
      maskedKey = await em.transactional(async (tx) => {
        const turnedOff = await tx.nativeUpdate(
          UserExchangeConfig,
          { user: userId, isValid: true },
          { isValid: false, lastVerifyError: reason, lastVerifiedAt: new Date() },
        );
        if (turnedOff === 0) return null;
        this.deps.audit.record(tx, { action: 'exchange.key_invalid', userId, detail: `${source.toLowerCase().replace('_', ' ')}: ${reason}` });
        const config = await tx.findOne(UserExchangeConfig, { user: userId });
        const masked = config?.apiKeyMasked ?? 'on file';
        // The owner's mail is queued in the same transaction: switched off, audited and told, or none of it.
        await this.deps.notifier.keyTurnedInvalid(userId, { maskedKey: masked, reason, source }, tx);
        return masked;
      });
    } catch (err) {
      this.deps.logger.error({ userId, source, err: (err as Error).message }, 'a refused key could not be switched off; the next refusal tries again');
      return;
    }
    if (maskedKey === null) return;
    this.deps.onChanged?.(userId);
  }

  async set(scope: SignedInScope, input: ExchangeConfigInputData): Promise<UserExchangeConfig> {
    const user = await scope.em.findOneOrFail(User, { id: scope.actor.id });
    if (user.status !== UserStatus.ACTIVE) throw badInput('Verify your email address before binding an exchange account');
    const existing = await scope.em.findOne(UserExchangeConfig, { user: user.id }, { populate: CREDENTIALS });
    const exchange = input.exchange ?? existing?.exchange ?? Exchange.BINANCE;
    const leverage = input.leverage ?? existing?.leverage ?? 1;
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > 125) {
      throw badInput('leverage must be a whole number from 1 to 125', 'leverage');
    }
    const cap = PLAN_RULES[user.subscription].maxPositionPct;
    const pct = input.maxPositionPct ?? (existing ? Number(existing.maxPositionPct) : Math.min(0.05, cap.toNumber()));
    // The column keeps 8 decimals: round down (never above what the user allowed), and a value that rounds to 0 is no cap at all.
    const pctStored = Number.isFinite(pct) ? new Decimal(pct).toDecimalPlaces(PCT_DECIMALS, Decimal.ROUND_DOWN) : null;
    if (!pctStored || pctStored.lte(0) || pctStored.gt(cap)) {
      throw badInput(
        `maxPositionPct must be from 0.00000001 to ${cap.toString()} on the ${user.subscription} plan`,
        'maxPositionPct',
      );
    }
    const keyChange = input.apiKey != null || input.apiSecret != null;
    if (exchange === Exchange.BINANCE) {
      const hasStored = existing?.exchange === Exchange.BINANCE && existing.apiKeyEnc && existing.apiSecretEnc;
      if (!hasStored && (input.apiKey == null || input.apiSecret == null)) {
        throw badInput('apiKey and apiSecret are required to bind a Binance account', input.apiKey == null ? 'apiKey' : 'apiSecret');
      }
      if (keyChange && (input.apiKey == null || input.apiSecret == null)) {
        throw badInput('Send apiKey and apiSecret together when replacing the key', input.apiKey == null ? 'apiKey' : 'apiSecret');
      }
      if (input.apiKey != null && !BINANCE_KEY_SHAPE.test(input.apiKey)) {
        throw badInput('apiKey must be the 64 letters and digits Binance shows for the key', 'apiKey');
      }
      if (input.apiSecret != null && !BINANCE_KEY_SHAPE.test(input.apiSecret)) {
        throw badInput('apiSecret must be the 64 letters and digits Binance shows for the secret', 'apiSecret');
      }
    } else if (keyChange) {
      throw badInput('A PAPER account takes no API key', input.apiKey != null ? 'apiKey' : 'apiSecret');
    }

    // Everything above only read: the limits are spent once the request is known to be well formed, before anything changes.
    await this.spendVerification(user.id, exchange);
    const config = existing ?? scope.em.create(UserExchangeConfig, { user: user.id });
    config.exchange = exchange;
    config.leverage = leverage;
    config.maxPositionPct = pctStored.toFixed();
    if (input.testnet != null) config.testnet = input.testnet;
    if (exchange === Exchange.PAPER) {
      config.apiKeyEnc = null;
      config.apiSecretEnc = null;
      config.apiKeyMasked = 'PAPER';
      config.testnet = false;
    } else if (input.apiKey != null && input.apiSecret != null) {
      config.apiKeyEnc = this.deps.cipher.encrypt(input.apiKey, user.id);
      config.apiSecretEnc = this.deps.cipher.encrypt(input.apiSecret, user.id);
      config.apiKeyMasked = maskApiKey(input.apiKey);
    }
    // Any change needs a fresh verification before the engine trades on it.
    config.isValid = false;
    config.lastVerifyError = 'not verified yet';
    this.deps.audit.record(scope.em, {
      action: existing ? 'exchange.update_config' : 'exchange.set_config',
      userId: user.id,
      actorId: user.id,
      detail: `${exchange} leverage ${leverage} maxPositionPct ${config.maxPositionPct}${keyChange ? ' (new key ' + config.apiKeyMasked + ')' : ''}`,
      ip: scope.ip,
    });
    await scope.em.flush();
    this.deps.onChanged?.(user.id);
    return (await this.verifyConfig(scope, config)).config;
  }

  async verify(scope: SignedInScope): Promise<VerifyOutcome> {
    // The ciphertexts are lazy columns: without them the gateway has no key to open.
    const config = await scope.em.findOne(UserExchangeConfig, { user: scope.actor.id }, { populate: CREDENTIALS });
    if (!config) throw notFound('Exchange configuration');
    // Found valid within the last minute and unchanged since: that verdict, with neither a limit nor exchange weight
    // spent. An invalid key is asked again at once, since its owner is most likely fixing it on Binance right now.
    const recent = config.lastVerifiedAt && Date.now() - config.lastVerifiedAt.getTime() < VERDICT_FRESH_MS;
    if (config.isValid && recent && this.validVerdicts.get(config.user.id) === verifiedFingerprint(config)) {
      return { ok: true, reason: null, unreachable: false, config };
    }
    await this.spendVerification(scope.actor.id, config.exchange);
    return this.verifyConfig(scope, config);
  }

  /**
   * One user's verifications are limited (RATE_LIMITED), and a Binance one is
   * refused outright while the minute's weight budget is down to the share
   * kept for signal execution: a user's calls never leave the signals without it.
   */
  private async spendVerification(userId: string, exchange: Exchange): Promise<void> {
    await this.deps.limits.consume('verify', userId);
    if (exchange !== Exchange.BINANCE) return;
    const waitMs = this.deps.budget.waitForUserCallMs(VERIFY_WEIGHT);
    if (waitMs > 0) {
      await this.deps.limits.refund('verify', userId);
      throw rateLimited(`Binance's request budget for this minute is kept for trading; try again in ${Math.ceil(waitMs / 1000)} s`, Math.ceil(waitMs / 1000));
    }
  }

  async remove(scope: SignedInScope): Promise<boolean> {
    const config = await scope.em.findOne(UserExchangeConfig, { user: scope.actor.id });
    if (!config) throw notFound('Exchange configuration');
    this.validVerdicts.delete(scope.actor.id);
    scope.em.remove(config);
    this.deps.audit.record(scope.em, {
      action: 'exchange.delete_config',
      userId: scope.actor.id,
      actorId: scope.actor.id,
      detail: `${config.exchange} ${config.apiKeyMasked}`,
      ip: scope.ip,
    });
    await scope.em.flush();
    this.deps.onChanged?.(scope.actor.id);
    return true;
  }

  /**
   * Checks the key against the exchange and records the verdict. Never throws
   * for an exchange problem: an unreachable exchange is `isValid: false` with a
   * reason, not a server error.
   */
  async verifyConfig(
    scope: Pick<SignedInScope, 'em' | 'ip'> & { actorId?: string | null },
    config: UserExchangeConfig,
    options: VerifyOptions = {},
  ): Promise<VerifyOutcome> {
    const userId = config.user.id;
    let reason: string | null = null;
    let unreachable = false;
    const seen: { permissions: KeyPermissions | null } = { permissions: null };
    let gateway: ExchangeGateway | null = null;
    try {
      gateway = await this.deps.gateways.open(config, userId);
      const opened = gateway;
      reason = await withTrafficClass(options.trafficClass ?? 'user', async () => {
        const permissions = await opened.getKeyPermissions();
        seen.permissions = permissions;
        const problem = this.permissionProblem(permissions);
        if (problem) return problem;
        await opened.getAccount();
        if ((await opened.getPositionMode()) === 'HEDGE') {
          return 'hedge mode is on for this futures account; switch it to one-way mode in the Binance futures settings';
        }
        await opened.setLeverage(this.deps.symbol, config.leverage);
        return null;
      });
    } catch (err) {
      unreachable = err instanceof ExchangeError && err.action !== 'skip_user';
      reason = this.describeFailure(err, userId);
    } finally {
      await gateway?.close().catch(() => undefined);
    }
    if (unreachable && options.keepVerdictWhenUnreachable !== false) {
      // An outage says nothing about the key: a verdict reached before stands; one never reached says why.
      this.deps.logger.warn({ userId }, 'exchange unreachable while verifying a key; stored verdict kept');
      if (!config.isValid) {
        config.lastVerifyError = reason;
        await scope.em.flush();
      }
      return { ok: false, reason, unreachable, config };
    }
    const ok = reason === null;
    if (ok) this.validVerdicts.set(userId, verifiedFingerprint(config));
    else this.validVerdicts.delete(userId);
    config.isValid = ok;
    config.lastVerifiedAt = new Date();
    config.lastVerifyError = reason;
    const permissions = seen.permissions;
    config.permissions = permissions
      ? {
          canRead: permissions.canRead,
          canTrade: permissions.futuresEnabled && permissions.canTrade,
          canWithdraw: permissions.canWithdraw,
          canTransfer: permissions.canTransferInternal || permissions.canTransferUniversal,
          ipRestricted: permissions.ipRestricted,
        }
      : config.permissions;
    this.deps.audit.record(scope.em, {
      action: 'exchange.verify',
      userId,
      actorId: scope.actorId === undefined ? userId : scope.actorId,
      detail: ok ? `${config.exchange} key valid` : `invalid: ${reason}`,
      ip: scope.ip,
    });
    await scope.em.flush();
    this.deps.onChanged?.(userId);
    return { ok, reason, unreachable, config };
  }

  private permissionProblem(p: KeyPermissions): string | null {
    if (p.canWithdraw) return 'withdrawals are enabled on this key; create a key without withdrawal permission';
    if (p.canTransferInternal) return 'internal transfer is enabled on this key; create a key without transfer permission';
    if (p.canTransferUniversal) return 'universal transfer is enabled on this key; create a key without transfer permission';
    if (!p.canRead) return 'reading is not enabled on this key; enable "Enable Reading" for the key';
    if (!p.futuresEnabled) return 'futures trading is not enabled on this key; enable "Enable Futures" in the key\'s API restrictions';
    if (this.deps.requireIpWhitelist && !p.ipRestricted) {
      return "this key is not restricted to trusted IPs; restrict it to this platform's IP addresses";
    }
    return null;
  }

  private describeFailure(err: unknown, userId: string): string {
    if (err instanceof CredentialsUnreadableError) {
      // Tampered, copied from another user's row, or sealed under a master key this server no longer holds.
      this.deps.logger.warn({ userId }, 'stored exchange credentials could not be decrypted');
      return 'the stored API key could not be read; set the API key and secret again';
    }
    if (err instanceof AuthenticationError && err.exchangeCode === -1022) {
      return 'the exchange rejected the signature: the API secret does not belong to this API key; enter the secret again';
    }
    if (err instanceof AuthenticationError) {
      return 'the exchange rejected this API key (deleted, mistyped, or not allowed from this IP); check the key or create a new one';
    }
    if (err instanceof ExchangeError) {
      if (err.action === 'skip_user') return err.message;
      return 'the exchange could not be reached to verify the key; try again in a few minutes';
    }
    this.deps.logger.warn({ userId, err: (err as Error)?.message }, 'exchange key verification failed unexpectedly');
    return 'the stored key could not be read; set the API key again';
  }
}
