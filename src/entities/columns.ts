import { Property } from '@mikro-orm/core';

/** Money and quantities: numeric(28,10) in PostgreSQL, a decimal string in code (never a JS float). */
export const Money = (options: { nullable?: boolean } = {}) =>
  Property({ type: 'decimal', precision: 28, scale: 10, nullable: options.nullable ?? false });

/** Ratios in [0, 1] (position caps, drawdown, fee rates): exact in storage too. */
export const Ratio = (options: { nullable?: boolean } = {}) =>
  Property({ type: 'decimal', precision: 12, scale: 8, nullable: options.nullable ?? false });
