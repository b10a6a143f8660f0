/**
 * Event-bus topics. Per-user topics are published and subscribed with the
 * user's id as the topic id (channel `<TOPIC>:<userId>`), and subscribers take
 * that id from their authenticated context, never from arguments.
 */
export enum Topic {
  ORDER_UPDATED = 'ORDER_UPDATED',
  POSITION_UPDATED = 'POSITION_UPDATED',
  RISK_STATE_CHANGED = 'RISK_STATE_CHANGED',
  EXECUTION_RESULT = 'EXECUTION_RESULT',
  SIGNAL_EMITTED = 'SIGNAL_EMITTED',
  EXECUTION_REPORTS = 'EXECUTION_REPORTS',
  /** A user's sessions ended (logout-all, password change, suspension): sockets close. */
  SESSION_REVOKED = 'SESSION_REVOKED',
  /** A user's config, plan, status or risk changed: engine caches for that user are dropped on every node. */
  USER_CHANGED = 'USER_CHANGED',
  /** Latest market price from the strategy leader's feed, for every node's paper fills. */
  MARKET_PRICE = 'MARKET_PRICE',
}

export const userTopic = (topic: Topic, userId: string) => `${topic}:${userId}`;
