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

@ObjectType('InvoiceLine')
export class InvoiceLineType {
  @Field(() => String) description!: string;
  @Field(() => DecimalScalar) amount!: string;
  @Field(() => String, { description: 'How the amount was computed, in words and numbers the user can check.' }) calculation!: string;
}

@ObjectType('Invoice')
export class InvoiceType {
  @Field(() => ID) id!: string;
  @Field(() => ID) userId!: string;
  @Field(() => Date) periodStart!: Date;
  @Field(() => Date) periodEnd!: Date;
  @Field(() => SubscriptionPlan) plan!: SubscriptionPlan;
  @Field(() => DecimalScalar) subscriptionFee!: string;
  @Field(() => DecimalScalar) profitShareFee!: string;
  @Field(() => DecimalScalar) total!: string;
  @Field(() => InvoiceStatus) status!: InvoiceStatus;
  @Field(() => [InvoiceLineType], { description: 'Every amount on the invoice with its calculation.' }) lines!: InvoiceLineType[];
  @Field(() => Date) dueAt!: Date;
  @Field(() => Date, { nullable: true }) paidAt!: Date | null;
  @Field(() => String, { nullable: true }) paymentReference!: string | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType('InvoicePage')
export class InvoicePageType {
  @Field(() => [InvoiceType]) items!: InvoiceType[];
  @Field(() => String, { nullable: true }) nextCursor!: string | null;
}
