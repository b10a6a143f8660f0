import type { UserExchangeConfig } from '../../entities/user-exchange-config.entity';
import type { ExchangeConfigType } from '../types/exchange-config.type';

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
