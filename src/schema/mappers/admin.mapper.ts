import type { UserDetail } from '../../services/admin-console.service';
import type { UserDetailType } from '../types/admin.type';
import { toExchangeConfigType } from './exchange-config.mapper';
import { toOrderEvent, toPositionEvent } from './trading.mapper';

export function toUserDetailType(detail: UserDetail): UserDetailType {
  return {
    user: detail.user,
    exchangeConfig: detail.exchangeConfig ? toExchangeConfigType(detail.exchangeConfig) : null,
    risk: detail.risk,
    riskEvents: detail.riskEvents,
    positions: detail.positions.map(toPositionEvent),
    recentOrders: detail.recentOrders.map(toOrderEvent),
    profit: detail.profit,
    invoices: detail.invoices,
  };
}
