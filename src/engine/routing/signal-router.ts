import type { EntityManager } from '@mikro-orm/postgresql';
import Decimal from 'decimal.js';
import { PLAN_RULES, planBlocker } from '../../domain/plans';
import { Exchange, InvoiceStatus, PositionSide, SignalAction, UserStatus } from '../../entities/enums';
import { Invoice } from '../../entities/invoice.entity';
import { WITHOUT_OWNER } from '../../entities/owner-filter';
import { Position } from '../../entities/position.entity';
import type { Signal } from '../../entities/signal.entity';
import { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import { UserRiskState } from '../../entities/user-risk-state.entity';
import { lockStillHolds } from '../risk/risk-monitor';


export interface Candidate {
  userId: string;
  config: UserExchangeConfig;
  /** Our view of the user's position on the signal's symbol (null: none recorded). */
  position: Position | null;
  /** The user's risk row as routing saw it (null: never judged yet). */
  risk: UserRiskState | null;
  /** The largest margin share the user's plan allows now: sizing never exceeds it, whatever the stored setting says. */
  planCap: Decimal;
}

export interface Routing {
  eligible: Candidate[];
  skipped: Array<{ userId: string; reason: string }>;
}

/**
 * Who receives a signal (DESIGN §4 "Signal → orders"). An OPEN goes to
 * ACTIVE users with a valid key, not risk-locked and entitled by plan. A CLOSE
 * goes to everyone holding a position the strategy opened who has a usable
 * key, whatever their lock, plan or status: a lock blocks new risk, never the exit.
 * A few queries for any number of users.
 */
const capOf = (plan: keyof typeof PLAN_RULES) => PLAN_RULES[plan]?.maxPositionPct ?? new Decimal(0);

export class SignalRouter {
  async route(em: EntityManager, signal: Signal, now: Date): Promise<Routing> {
    return signal.action === SignalAction.CLOSE ? this.routeClose(em, signal) : this.routeOpen(em, signal, now);
  }

  private async routeOpen(em: EntityManager, signal: Signal, now: Date): Promise<Routing> {
    const configs = await em.find(UserExchangeConfig, {}, { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] });
    const risks = new Map(
      (await em.find(UserRiskState, { user: { $in: configs.map((c) => c.user.id) } }, WITHOUT_OWNER)).map((r) => [r.user.id, r]),
    );
    const overdue = await this.overdueInvoices(em, configs.map((c) => c.user.id), now);
    const routing: Routing = { eligible: [], skipped: [] };
    for (const config of configs) {
      const user = config.user;
      const reason =
        user.status !== UserStatus.ACTIVE
          ? `account ${user.status.toLowerCase()}`
          : !config.isValid
            ? `exchange key not valid: ${config.lastVerifyError ?? 'not verified'}`
            : risks.has(user.id) && lockStillHolds(risks.get(user.id)!, now)
              ? `risk locked: ${risks.get(user.id)?.lockedReason ?? 'limit reached'}`
              : (planBlocker(user, now) ?? overdue.get(user.id) ?? null);
      if (reason) routing.skipped.push({ userId: user.id, reason });
      else routing.eligible.push({ userId: user.id, config, position: null, risk: risks.get(user.id) ?? null, planCap: capOf(user.subscription) });
    }
    // One query for every eligible user's position instead of one per user on the hot path.
    const positions = new Map(
      (await em.find(Position, { user: { $in: routing.eligible.map((c) => c.userId) }, symbol: signal.symbol }, WITHOUT_OWNER)).map((p) => [p.user.id, p]),
    );
    for (const candidate of routing.eligible) candidate.position = positions.get(candidate.userId) ?? null;
    return routing;
  }

  /** Users holding an invoice unpaid past its due date, each with why (naming the oldest such invoice): one query. */
  private async overdueInvoices(em: EntityManager, userIds: string[], now: Date): Promise<Map<string, string>> {
    if (userIds.length === 0) return new Map();
    const invoices = await em.find(
      Invoice,
      { user: { $in: userIds }, status: InvoiceStatus.OPEN, dueAt: { $lte: now } },
      { ...WITHOUT_OWNER, orderBy: { dueAt: 'desc' } },
    );
    // Descending, so the oldest one of each user is the one kept.
    return new Map(
      invoices.map((i) => [
        i.user.id,
        `invoice ${i.id} for ${i.periodStart.toISOString().slice(0, 7)} unpaid since it fell due on ${i.dueAt.toISOString().slice(0, 10)}; ` +
          'new positions resume once it is paid',
      ]),
    );
  }

  private async routeClose(em: EntityManager, signal: Signal): Promise<Routing> {
    const positions = await em.find(
      Position,
      { symbol: signal.symbol, side: { $ne: PositionSide.FLAT }, openedByStrategy: true },
      WITHOUT_OWNER,
    );
    const configs = new Map(
      (
        await em.find(
          UserExchangeConfig,
          { user: { $in: positions.map((p) => p.user.id) } },
          { ...WITHOUT_OWNER, populate: ['user', 'apiKeyEnc', 'apiSecretEnc'] },
        )
      ).map((c) => [c.user.id, c]),
    );
    const routing: Routing = { eligible: [], skipped: [] };
    for (const position of positions) {
      const config = configs.get(position.user.id);
      const usable = config && (config.exchange === Exchange.PAPER || (config.apiKeyEnc && config.apiSecretEnc));
      if (!config || !usable) routing.skipped.push({ userId: position.user.id, reason: 'no usable exchange key to close the position with' });
      else routing.eligible.push({ userId: position.user.id, config, position, risk: null, planCap: capOf(config.user.subscription) });
    }
    return routing;
  }
}
