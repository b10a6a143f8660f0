import { Field, Float, ID, ObjectType } from 'type-graphql';
import { InvoiceStatus, PeriodType, SubscriptionPlan } from '../enums';
import { DecimalScalar } from '../scalars';

@ObjectType('ProfitRecord')
export class ProfitRecordType {
  @Field(() => PeriodType) periodType!: PeriodType;
  @Field(() => Date) periodStart!: Date;
  @Field(() => Date) periodEnd!: Date;
  @Field(() => DecimalScalar) startingBalance!: string;
  @Field(() => DecimalScalar) endingBalance!: string;
  @Field(() => DecimalScalar) grossProfit!: string;
  @Field(() => Float) feeRate!: number;
  @Field(() => DecimalScalar) platformFee!: string;
  @Field(() => DecimalScalar) netProfit!: string;
}

@ObjectType('ProfitSummary')
export class ProfitSummaryType {
  @Field(() => [ProfitRecordType]) records!: ProfitRecordType[];
  @Field(() => DecimalScalar) totalGrossProfit!: string;
  @Field(() => DecimalScalar) totalPlatformFee!: string;
  @Field(() => DecimalScalar) totalNetProfit!: string;
}

@ObjectType('Invoice')
export class InvoiceType {
  @Field(() => ID) id!: string;
  @Field(() => Date) periodStart!: Date;
  @Field(() => Date) periodEnd!: Date;
  @Field(() => SubscriptionPlan) plan!: SubscriptionPlan;
  @Field(() => DecimalScalar) subscriptionFee!: string;
  @Field(() => DecimalScalar) profitShareFee!: string;
  @Field(() => DecimalScalar) total!: string;
  @Field(() => InvoiceStatus) status!: InvoiceStatus;
  @Field(() => Date) createdAt!: Date;
}
