import { Arg, Authorized, Ctx, FieldResolver, Int, Resolver } from 'type-graphql';
import type { TradingService } from '../services/trading.service';
import { toExecutionEvent, toOrderEvent, toPositionEvent } from '../schema/mappers/trading.mapper';
import type { GraphQLContext } from '../schema/context';
import { OrderStatus } from '../schema/enums';
import { UserExecutionType } from '../schema/types/signal.type';
import { OrderPageType, PositionType, TradePageType, type TradeType } from '../schema/types/trading.type';
import { ViewerType } from '../schema/types/viewer.type';
import type { Trade } from '../entities/trade.entity';
import { formatDecimal } from '../schema/scalars';
import { signedIn } from './signed-in';

const toTradeType = (t: Trade): TradeType => ({
  id: t.id,
  orderId: t.order?.id ?? null,
  exchangeTradeId: t.exchangeTradeId,
  symbol: t.symbol,
  side: t.side,
  price: formatDecimal(t.price),
  quantity: formatDecimal(t.quantity),
  realizedPnl: formatDecimal(t.realizedPnl),
  commission: formatDecimal(t.commission),
  commissionAsset: t.commissionAsset,
  executedAt: t.executedAt,
});

/** The trading fields of `me`. */
@Resolver(() => ViewerType)
export class TradingResolver {
  constructor(private readonly trading: TradingService) {}

  @Authorized()
  @FieldResolver(() => [PositionType])
  async positions(@Ctx() ctx: GraphQLContext) {
    return (await this.trading.positions(signedIn(ctx))).map(toPositionEvent);
  }

  @Authorized()
  @FieldResolver(() => OrderPageType)
  async orders(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('status', () => OrderStatus, { nullable: true }) status?: OrderStatus,
  ) {
    const page = await this.trading.orders(signedIn(ctx), { first, after, status });
    return { items: page.items.map(toOrderEvent), nextCursor: page.nextCursor };
  }

  @Authorized()
  @FieldResolver(() => TradePageType)
  async trades(
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
  ) {
    const page = await this.trading.trades(signedIn(ctx), { first, after, from, to });
    return { items: page.items.map(toTradeType), nextCursor: page.nextCursor };
  }

  @Authorized()
  @FieldResolver(() => [UserExecutionType])
  async executions(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number) {
    return (await this.trading.executions(signedIn(ctx), first)).map(toExecutionEvent);
  }
}
