import type { MikroORM } from '@mikro-orm/postgresql';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { TimeLimitError, withTimeLimit } from '../engine/cluster/time-limit';
import { Exchange } from '../entities/enums';
import { OWNER_FILTER } from '../entities/owner-filter';
import { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import { CREDENTIALS, type ExchangeConfigService } from './exchange-config.service';
import type { AuditService } from './audit.service';
import type { NotificationService } from './notifications/notification.service';

const BATCH = 100;
/** Accounts checked at once: enough that one slow account holds up nobody, few enough to stay a background trickle of weight. */
const CONCURRENCY = 4;
/**
 * One account's whole check may take this long; past it the run goes on without it. Each exchange call has its
 * own 5 s timeout, but a check also waits at the weight gate when the background share of the minute is spent
 * (up to the next minute, once or twice a check on a large platform): the limit sits above that, so only an
 * account that is really stuck is given up on.
 */
const USER_TIME_LIMIT_MS = 120_000;

export interface ReverificationSummary {
  checked: number;
  newlyInvalid: number;
  /** Not judged this run: the exchange did not answer, so their verdict is kept until the next one. */
  unreachable: number;
  /** Not judged this run either: the check outlived the per-account time limit; the verdict stands. */
  timedOut: number;
}

type Outcome = 'judged' | 'newly-invalid' | 'unreachable' | 'failed';

/**
 * Daily: re-verify every stored Binance key and tell the user when one that
 * was valid no longer is (revoked, permissions changed). Accounts are checked
 * a few at a time, each within a time limit: one user's failure or hanging
 * account never stops or holds up the rest, nor the job.
 */
export class KeyReverificationJob {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      exchangeConfigs: ExchangeConfigService;
      audit: AuditService;
      notifier: Pick<NotificationService, 'keyTurnedInvalid'>;
      logger: Logger;
      concurrency?: number;
      userTimeLimitMs?: number;
    },
  ) {}

  /** `signal`: the scheduler is stopping; accounts not started yet wait for the next run. */
  async run(signal?: AbortSignal): Promise<ReverificationSummary> {
    const summary: ReverificationSummary = { checked: 0, newlyInvalid: 0, unreachable: 0, timedOut: 0 };
    const limit = pLimit(this.deps.concurrency ?? CONCURRENCY);
    const timeLimitMs = this.deps.userTimeLimitMs ?? USER_TIME_LIMIT_MS;
    // Keyset paging by uuid; no cursor on the first page ('' is not a uuid to PostgreSQL).
    let afterId: string | null = null;
    while (!signal?.aborted) {
      const batch: UserExchangeConfig[] = await this.deps.orm.em
        .fork()
        .find(
          UserExchangeConfig,
          afterId ? { exchange: Exchange.BINANCE, id: { $gt: afterId } } : { exchange: Exchange.BINANCE },
          { filters: { [OWNER_FILTER]: false }, orderBy: { id: 'asc' }, limit: BATCH },
        );
      if (batch.length === 0) break;
      afterId = batch[batch.length - 1].id;
      await Promise.all(
        batch.map((row) =>
          limit(async () => {
            if (signal?.aborted) return;
            const userId = row.user.id;
            summary.checked += 1;
            try {
              // A check past the limit is left to end on its own (its exchange calls time out): whatever it then
              // finds is the exchange's own answer, recorded, audited and mailed by that check as usual.
              const outcome = await withTimeLimit(this.check(row.id, userId), timeLimitMs, 'checking this key took too long');
              if (outcome === 'newly-invalid') summary.newlyInvalid += 1;
              else if (outcome === 'unreachable') summary.unreachable += 1;
            } catch (err) {
              if (!(err instanceof TimeLimitError)) throw err;
              // A time limit is no verdict: an exchange that does not answer has not revoked the key.
              summary.timedOut += 1;
              this.deps.logger.warn({ userId, err: (err as Error).message, limitMs: timeLimitMs }, 'key re-verification of one account timed out; verdict kept');
            }
          }),
        ),
      );
    }
    this.deps.logger.info(summary, 'daily key re-verification done');
    return summary;
  }

  /** One account: never throws (a failure is logged and leaves the verdict as it was). */
  private async check(configId: string, userId: string): Promise<Outcome> {
    const em = this.deps.orm.em.fork();
    em.setFilterParams(OWNER_FILTER, { userId });
    try {
      const config = await em.findOneOrFail(UserExchangeConfig, { id: configId }, { populate: ['user', ...CREDENTIALS] });
      const wasValid = config.isValid;
      const outcome = await this.deps.exchangeConfigs.verifyConfig(
        { em, ip: null, actorId: null },
        config,
        { keepVerdictWhenUnreachable: true, trafficClass: 'background' },
      );
      if (outcome.unreachable) return 'unreachable';
      if (!(wasValid && !outcome.ok)) return 'judged';
      this.deps.audit.record(em, {
        action: 'exchange.key_invalid',
        userId,
        detail: `daily check: ${outcome.reason ?? 'no longer usable'} (${config.apiKeyMasked})`,
      });
      await em.flush();
      await this.deps.notifier.keyTurnedInvalid(userId, {
        maskedKey: config.apiKeyMasked,
        reason: outcome.reason ?? 'the exchange no longer accepts it',
        source: 'DAILY_CHECK',
      });
      return 'newly-invalid';
    } catch (err) {
      this.deps.logger.error({ userId, err: (err as Error).message }, 'key re-verification failed for one user');
      return 'failed';
    }
  }
}
