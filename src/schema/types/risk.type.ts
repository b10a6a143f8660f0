import { Field, Float, Int, ObjectType } from 'type-graphql';
import { DecimalScalar } from '../scalars';

@ObjectType('RiskLimits')
export class RiskLimitsType {
  @Field(() => Float) maxDrawdown!: number;
  @Field(() => Float) maxDailyLossPct!: number;
  @Field(() => Float) maxWeeklyLossPct!: number;
  @Field(() => Int) maxConsecutiveLosses!: number;
}

@ObjectType('RiskState')
export class RiskStateType {
  @Field(() => Float) currentDrawdown!: number;
  @Field(() => DecimalScalar) dailyLoss!: string;
  @Field(() => DecimalScalar) weeklyLoss!: string;
  @Field(() => Int) consecutiveLosses!: number;
  @Field(() => Boolean) isLocked!: boolean;
  @Field(() => String, { nullable: true }) lockedReason!: string | null;
  @Field(() => Date, { nullable: true }) lockedAt!: Date | null;
  @Field(() => RiskLimitsType) limits!: RiskLimitsType;
  @Field(() => Date) updatedAt!: Date;
}
