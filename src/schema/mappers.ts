import { toOrderEvent, toPositionEvent } from '../engine/engine-events';
import type { RiskEvent } from '../entities/risk-event.entity';
import type { UserExchangeConfig } from '../entities/user-exchange-config.entity';
import type { UserDetail } from '../services/admin-console.service';
import type { UserDetailType } from './types/admin.type';
import type { ExchangeConfigType } from './types/exchange-config.type';
import type { RiskEventType } from './types/risk.type';

/** Entity → GraphQL shape, only where the two differ (ratios are exact strings in storage, Float on the wire). */
export function toExchangeConfigType(config: UserExchangeConfig): ExchangeConfigType {
  return {
    exchange: config.exchange,
    apiKeyMasked: config.apiKeyMasked,
    testnet: config.testnet,
    leverage: config.leverage,
    maxPositionPct: Number(config.maxPositionPct),
    isValid: config.isValid,
    lastVerifiedAt: config.lastVerifiedAt,
    lastVerifyError: config.lastVerifyError,
    permissions: config.permissions
      ? {
          canRead: config.permissions.canRead,
          canTrade: config.permissions.canTrade,
          canWithdraw: config.permissions.canWithdraw,
          ipRestricted: config.permissions.ipRestricted,
        }
      : null,
    updatedAt: config.updatedAt,
  };
}

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
