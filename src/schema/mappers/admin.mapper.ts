import type { RiskEvent } from '../../entities/risk-event.entity';
import type { UserDetail } from '../../services/admin-console.service';
import type { UserDetailType } from '../types/admin.type';
import type { RiskEventType } from '../types/risk.type';
import { toExchangeConfigType } from './exchange-config.mapper';
import { toOrderEvent, toPositionEvent } from './trading.mapper';

/** A stored lock/unlock as the contract's RiskEvent: an unlock with an actor is an admin's, one without is the period's lift. */
export function toRiskEventType(event: RiskEvent): RiskEventType {
  const kind = event.type === 'UNLOCKED' ? (event.actorId ? 'UNLOCKED' : 'LIFTED') : event.type;
  return { id: event.id, kind, reason: event.detail ?? '', createdAt: event.createdAt };
}

export function toUserDetailType(detail: UserDetail): UserDetailType {
  return {
    user: detail.user,
    exchangeConfig: detail.exchangeConfig ? toExchangeConfigType(detail.exchangeConfig) : null,
    risk: detail.risk,
    riskEvents: detail.riskEvents.map(toRiskEventType),
    positions: detail.positions.map(toPositionEvent),
    recentOrders: detail.recentOrders.map(toOrderEvent),
    profit: detail.profit,
    invoices: detail.invoices,
  };
}
