import type { Order } from '../entities/order.entity';
import type { Position } from '../entities/position.entity';
import { SubscriptionPlan, UserStatus } from '../entities/enums';
import type { User } from '../entities/user.entity';
import type { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import type { RiskService } from './risk.service';
import { notFound } from '../errors/app-error';
import { assertAdmin } from './access';
import type { AuditService } from './audit.service';
import type { BillingReader, InvoiceView, ProfitSummaryView } from './billing-reader';
import type { ExchangeConfigService } from './exchange-config.service';
import type { SignedInScope } from './scope';
import type { TradingService } from './trading.service';
import type { UserService } from './user.service';

const RECENT_ORDERS = 20;
const RECENT_RISK_EVENTS = 20;
const PROFIT_DAYS = 30;

export interface UserDetail {
  user: User;
  exchangeConfig: UserExchangeConfig | null;
  risk: Awaited<ReturnType<RiskService['stateOf']>>;
  riskEvents: Awaited<ReturnType<RiskService['eventsOf']>>;
  positions: Position[];
  recentOrders: Order[];
  profit: ProfitSummaryView;
  invoices: InvoiceView[];
}

export interface PlatformStats {
  totalUsers: number;
  usersByStatus: Array<{ status: UserStatus; count: number }>;
  usersByPlan: Array<{ plan: SubscriptionPlan; count: number }>;
  activeTraders: number;
  lockedUsers: number;
  signalsLast24h: number;
  ordersLast24h: number;
  failedOrdersLast24h: number;
}

/**
 * One round trip of aggregates; nothing is loaded row by row. Active traders
 * mirror the signal router's OPEN rule minus the risk lock (counted on its
 * own): ACTIVE, a valid key, and a paid plan or a running trial. A daily or
 * weekly lock whose period has rolled over no longer counts as locked, as in
 * the router. "Failed" orders are the ones the exchange refused or we could
 * not place (REJECTED, FAILED).
 */
const STATS_SQL = `
select
  (select coalesce(json_object_agg(status, n), '{}') from (select status, count(*)::int as n from users group by status) s) as by_status,
  (select coalesce(json_object_agg(subscription, n), '{}') from (select subscription, count(*)::int as n from users group by subscription) p) as by_plan,
  (select count(*)::int from users u join user_exchange_configs c on c.user_id = u.id
     where u.status = 'ACTIVE' and c.is_valid and (u.subscription <> 'FREE' or u.trial_ends_at > ?)) as active_traders,
  (select count(*)::int from user_risk_states r
     where r.is_locked and not (
           (r.lock_kind = 'DAILY_LOSS' and r.locked_at < date_trunc('day', ?::timestamptz at time zone 'UTC') at time zone 'UTC')
        or (r.lock_kind = 'WEEKLY_LOSS' and r.locked_at < date_trunc('week', ?::timestamptz at time zone 'UTC') at time zone 'UTC'))) as locked_users,
  (select count(*)::int from signals where created_at > ?) as signals,
  (select count(*)::int from orders where created_at > ?) as orders,
  (select count(*)::int from orders where created_at > ? and status in ('FAILED', 'REJECTED')) as failed_orders`;

/**
 * The admin console's reads: a user's whole picture, each part from the
 * service that owns it, and the platform's figures. Admin only, checked here
 * as well as at the resolver.
 */
export class AdminConsoleService {
  constructor(
    private readonly deps: {
      users: Pick<UserService, 'get'>;
      exchangeConfigs: Pick<ExchangeConfigService, 'configOf'>;
      risk: Pick<RiskService, 'stateOf' | 'eventsOf'>;
      trading: Pick<TradingService, 'positionsOf' | 'recentOrdersOf'>;
      billing: BillingReader;
      audit: AuditService;
      clock?: () => Date;
    },
  ) {}

  /** NOT_FOUND alike for an unknown id and a malformed one. Viewing is itself audited: it shows another person's money. */
  async userDetail(scope: SignedInScope, id: string): Promise<UserDetail> {
    assertAdmin(scope);
    const user = await this.deps.users.get(scope, id);
    if (!user) throw notFound('User');
    const detail: UserDetail = {
      user,
      exchangeConfig: await this.deps.exchangeConfigs.configOf(scope, user.id),
      risk: await this.deps.risk.stateOf(scope, user.id),
      riskEvents: await this.deps.risk.eventsOf(scope, user.id, RECENT_RISK_EVENTS),
      positions: await this.deps.trading.positionsOf(scope, user.id),
      recentOrders: await this.deps.trading.recentOrdersOf(scope, user.id, RECENT_ORDERS),
      profit: await this.deps.billing.profitOf(scope.em, user.id, PROFIT_DAYS),
      invoices: await this.deps.billing.invoicesOf(scope.em, user.id),
    };
    this.deps.audit.record(scope.em, { action: 'admin.view_user', userId: user.id, actorId: scope.actor.id, ip: scope.ip });
    await scope.em.flush();
    return detail;
  }

  async platformStats(scope: SignedInScope): Promise<PlatformStats> {
    assertAdmin(scope);
    const now = this.deps.clock?.() ?? new Date();
    const since = new Date(now.getTime() - 24 * 60 * 60 * 1000);
    const [row] = await scope.em.execute(STATS_SQL, [now, now, now, since, since, since]);
    const byStatus = row.by_status as Record<string, number>;
    const byPlan = row.by_plan as Record<string, number>;
    // Every status and plan is listed, zero included, so a dashboard's rows never come and go.
    const usersByStatus = Object.values(UserStatus).map((status) => ({ status, count: byStatus[status] ?? 0 }));
    return {
      totalUsers: usersByStatus.reduce((n, s) => n + s.count, 0),
      usersByStatus,
      usersByPlan: Object.values(SubscriptionPlan).map((plan) => ({ plan, count: byPlan[plan] ?? 0 })),
      activeTraders: row.active_traders,
      lockedUsers: row.locked_users,
      signalsLast24h: row.signals,
      ordersLast24h: row.orders,
      failedOrdersLast24h: row.failed_orders,
    };
  }
}
