import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { Exchange } from '../entities/enums';
import { OWNER_FILTER } from '../entities/owner-filter';
import { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import { CREDENTIALS, type ExchangeConfigService } from './exchange-config.service';
import type { AuditService } from './audit.service';
import type { NotificationService } from './notifications/notification.service';

const BATCH = 100;

/**
 * Daily: re-verify every stored Binance key and tell the user when one that
 * was valid no longer is (revoked, permissions changed). One user's failure
 * never stops the rest.
 */
export class KeyReverificationJob {
  constructor(
    private readonly deps: {
      orm: MikroORM;
      exchangeConfigs: ExchangeConfigService;
      audit: AuditService;
      notifier: Pick<NotificationService, 'keyTurnedInvalid'>;
      logger: Logger;
    },
  ) {}

  async run(): Promise<{ checked: number; newlyInvalid: number; unreachable: number }> {
    let checked = 0;
    let newlyInvalid = 0;
    /** Not judged this run: the exchange did not answer, so their verdict is kept until the next one. */
    let unreachable = 0;
    // Keyset paging by uuid; no cursor on the first page ('' is not a uuid to PostgreSQL).
    let afterId: string | null = null;
    for (;;) {
      const batch: UserExchangeConfig[] = await this.deps.orm.em
        .fork()
        .find(
          UserExchangeConfig,
          afterId ? { exchange: Exchange.BINANCE, id: { $gt: afterId } } : { exchange: Exchange.BINANCE },
          { filters: { [OWNER_FILTER]: false }, orderBy: { id: 'asc' }, limit: BATCH, populate: ['user'] },
        );
      if (batch.length === 0) break;
      afterId = batch[batch.length - 1].id;
      for (const row of batch) {
        checked += 1;
        const em = this.deps.orm.em.fork();
        em.setFilterParams(OWNER_FILTER, { userId: row.user.id });
        try {
          const config = await em.findOneOrFail(UserExchangeConfig, { id: row.id }, { populate: ['user', ...CREDENTIALS] });
          const wasValid = config.isValid;
          const outcome = await this.deps.exchangeConfigs.verifyConfig(
            { em, ip: null, actorId: null },
            config,
            { keepVerdictWhenUnreachable: true, trafficClass: 'background' },
          );
          if (outcome.unreachable) unreachable += 1;
          else if (wasValid && !outcome.ok) {
            newlyInvalid += 1;
            this.deps.audit.record(em, {
              action: 'exchange.key_invalid',
              userId: row.user.id,
              detail: `daily check: ${outcome.reason ?? 'no longer usable'} (${config.apiKeyMasked})`,
            });
            await em.flush();
            await this.deps.notifier.keyTurnedInvalid(row.user.id, {
              maskedKey: config.apiKeyMasked,
              reason: outcome.reason ?? 'the exchange no longer accepts it',
              source: 'DAILY_CHECK',
            });
          }
        } catch (err) {
          this.deps.logger.error({ userId: row.user.id, err: (err as Error).message }, 'key re-verification failed for one user');
        }
      }
    }
    this.deps.logger.info({ checked, newlyInvalid, unreachable }, 'daily key re-verification done');
    return { checked, newlyInvalid, unreachable };
  }
}
