import { Field, ID, Int, ObjectType } from 'type-graphql';
import { SubscriptionPlan, UserStatus } from '../enums';
import { DecimalScalar } from '../scalars';
import { ExchangeConfigType } from './exchange-config.type';
import { InvoiceType, ProfitSummaryType } from './profit.type';
import { RiskEventType, RiskStateType } from './risk.type';
import { OrderType, PositionType } from './trading.type';
import { UserType } from './user.type';

@ObjectType('UserDetail')
export class UserDetailType {
  @Field(() => UserType) user!: UserType;
  @Field(() => ExchangeConfigType, { nullable: true }) exchangeConfig!: ExchangeConfigType | null;
  @Field(() => RiskStateType) risk!: RiskStateType;
  @Field(() => [PositionType]) positions!: PositionType[];
  @Field(() => [OrderType]) recentOrders!: OrderType[];
  @Field(() => ProfitSummaryType) profit!: ProfitSummaryType;
  @Field(() => [InvoiceType]) invoices!: InvoiceType[];
  @Field(() => [RiskEventType]) riskEvents!: RiskEventType[];
}

@ObjectType('UserPage')
export class UserPageType {
  @Field(() => [UserType]) items!: UserType[];
  @Field(() => String, { nullable: true }) nextCursor!: string | null;
  @Field(() => Int) total!: number;
}

@ObjectType('StatusCount')
export class StatusCountType {
  @Field(() => UserStatus) status!: UserStatus;
  @Field(() => Int) count!: number;
}

@ObjectType('PlanCount')
export class PlanCountType {
  @Field(() => SubscriptionPlan) plan!: SubscriptionPlan;
  @Field(() => Int) count!: number;
}

@ObjectType('PlatformStats')
export class PlatformStatsType {
  @Field(() => Int) totalUsers!: number;
  @Field(() => [StatusCountType]) usersByStatus!: StatusCountType[];
  @Field(() => [PlanCountType]) usersByPlan!: PlanCountType[];
  @Field(() => Int) activeTraders!: number;
  @Field(() => Int) lockedUsers!: number;
  @Field(() => Int) signalsLast24h!: number;
  @Field(() => Int) ordersLast24h!: number;
  @Field(() => Int) failedOrdersLast24h!: number;
}

@ObjectType('PlanRevenue')
export class PlanRevenueType {
  @Field(() => SubscriptionPlan) plan!: SubscriptionPlan;
  @Field(() => Int) users!: number;
  @Field(() => DecimalScalar) platformFee!: string;
  @Field(() => DecimalScalar) subscriptionRevenue!: string;
}

@ObjectType('PlatformProfit')
export class PlatformProfitType {
  @Field(() => Date) from!: Date;
  @Field(() => Date) to!: Date;
  @Field(() => DecimalScalar) totalGrossProfit!: string;
  @Field(() => DecimalScalar) totalPlatformFee!: string;
  @Field(() => DecimalScalar) subscriptionRevenue!: string;
  @Field(() => [PlanRevenueType]) byPlan!: PlanRevenueType[];
}

@ObjectType('AuditEntry')
export class AuditEntryType {
  @Field(() => ID) id!: string;
  @Field(() => ID, { nullable: true }) userId!: string | null;
  @Field(() => ID, { nullable: true }) actorId!: string | null;
  @Field(() => String) action!: string;
  @Field(() => String, { nullable: true }) detail!: string | null;
  @Field(() => String, { nullable: true }) ip!: string | null;
  @Field(() => Date) createdAt!: Date;
}
