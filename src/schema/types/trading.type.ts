import { Field, ID, Int, ObjectType } from 'type-graphql';
import { OrderSide, OrderStatus, PositionSide } from '../enums';
import { DecimalScalar } from '../scalars';

@ObjectType('Position')
export class PositionType {
  @Field(() => String) symbol!: string;
  @Field(() => PositionSide) side!: PositionSide;
  @Field(() => DecimalScalar) quantity!: string;
  @Field(() => DecimalScalar) entryPrice!: string;
  @Field(() => DecimalScalar, { nullable: true }) markPrice!: string | null;
  @Field(() => DecimalScalar) unrealizedPnl!: string;
  @Field(() => Int) leverage!: number;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType('Order')
export class OrderType {
  @Field(() => ID) id!: string;
  @Field(() => String) clientOrderId!: string;
  @Field(() => String, { nullable: true }) exchangeOrderId!: string | null;
  @Field(() => ID, { nullable: true }) signalId!: string | null;
  @Field(() => String) symbol!: string;
  @Field(() => OrderSide) side!: OrderSide;
  @Field(() => String) type!: string;
  @Field(() => DecimalScalar) quantity!: string;
  @Field(() => DecimalScalar, { nullable: true }) avgPrice!: string | null;
  @Field(() => DecimalScalar) executedQty!: string;
  @Field(() => Boolean) reduceOnly!: boolean;
  @Field(() => OrderStatus) status!: OrderStatus;
  @Field(() => String, { nullable: true }) error!: string | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType('OrderPage')
export class OrderPageType {
  @Field(() => [OrderType]) items!: OrderType[];
  @Field(() => String, { nullable: true }) nextCursor!: string | null;
}

@ObjectType('Trade')
export class TradeType {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) orderId!: string | null;
  @Field(() => String) exchangeTradeId!: string;
  @Field(() => String) symbol!: string;
  @Field(() => OrderSide) side!: OrderSide;
  @Field(() => DecimalScalar) price!: string;
  @Field(() => DecimalScalar) quantity!: string;
  @Field(() => DecimalScalar) realizedPnl!: string;
  @Field(() => DecimalScalar) commission!: string;
  @Field(() => String) commissionAsset!: string;
  @Field(() => Date) executedAt!: Date;
}

@ObjectType('TradePage')
export class TradePageType {
  @Field(() => [TradeType]) items!: TradeType[];
  @Field(() => String, { nullable: true }) nextCursor!: string | null;
}
