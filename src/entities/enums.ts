/** Closed sets shared by entities, GraphQL types and the engine. */
export enum Role { USER = 'USER', ADMIN = 'ADMIN' }
export enum UserStatus { PENDING = 'PENDING', ACTIVE = 'ACTIVE', SUSPENDED = 'SUSPENDED', BANNED = 'BANNED' }
export enum SubscriptionPlan { FREE = 'FREE', BASIC = 'BASIC', PRO = 'PRO' }
export enum Exchange { BINANCE = 'BINANCE', PAPER = 'PAPER' }
export enum OrderSide { BUY = 'BUY', SELL = 'SELL' }
export enum PositionSide { LONG = 'LONG', SHORT = 'SHORT', FLAT = 'FLAT' }
export enum OrderStatus {
  PENDING = 'PENDING',
  NEW = 'NEW',
  PARTIALLY_FILLED = 'PARTIALLY_FILLED',
  FILLED = 'FILLED',
  CANCELED = 'CANCELED',
  REJECTED = 'REJECTED',
  EXPIRED = 'EXPIRED',
  FAILED = 'FAILED',
}
export enum PeriodType { DAILY = 'DAILY', WEEKLY = 'WEEKLY', MONTHLY = 'MONTHLY' }
export enum SignalAction { OPEN_LONG = 'OPEN_LONG', OPEN_SHORT = 'OPEN_SHORT', CLOSE = 'CLOSE' }
export enum SignalSource { STRATEGY = 'STRATEGY', MANUAL = 'MANUAL' }
export enum ExecutionStatus { PLACED = 'PLACED', SKIPPED = 'SKIPPED', FAILED = 'FAILED' }
export enum InvoiceStatus { OPEN = 'OPEN', PAID = 'PAID', VOID = 'VOID' }
/** What a mailed token proves: a new account's address, a password reset, or a new address for an existing account. */
export enum EmailTokenPurpose { VERIFY_EMAIL = 'VERIFY_EMAIL', RESET_PASSWORD = 'RESET_PASSWORD', CHANGE_EMAIL = 'CHANGE_EMAIL' }
/** Where an order came from: our engine, or found on the exchange by the reconciler. */
export enum OrderOrigin { STRATEGY = 'STRATEGY', MANUAL = 'MANUAL', EXTERNAL = 'EXTERNAL' }
