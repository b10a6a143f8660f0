import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { DecimalScalar } from '../scalars';

@ObjectType('RiskLimits')
export class RiskLimitsType {
  @Field(() => Float) maxDrawdown!: number;
  @Field(() => Float) maxDailyLossPct!: number;
  @Field(() => Float) maxWeeklyLossPct!: number;
  @Field(() => Int) maxConsecutiveLosses!: number;
}

@ObjectType('RiskEvent')
export class RiskEventType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'LOCKED, LIFTED (automatic at the next UTC day / ISO week), UNLOCKED (by an admin), LIMITS_CHANGED' })
  kind!: string;
  @Field(() => String) reason!: string;
  @Field(() => Date) createdAt!: Date;
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
