import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
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

@ObjectType('RiskEvent')
export class RiskEventType {
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'LOCKED, LIFTED (automatic at the next UTC day / ISO week), UNLOCKED (by an admin), LIMITS_CHANGED' })
  kind!: string;
  @Field(() => String) reason!: string;
  @Field(() => Date) createdAt!: Date;
}

@InputType('RiskLimitsInput', { description: 'Each limit may only tighten the platform default; leave a field out to keep it.' })
export class RiskLimitsInput {
  @Field(() => Float, { nullable: true }) maxDrawdown?: number | null;
  @Field(() => Float, { nullable: true }) maxDailyLossPct?: number | null;
  @Field(() => Float, { nullable: true }) maxWeeklyLossPct?: number | null;
  @Field(() => Int, { nullable: true }) maxConsecutiveLosses?: number | null;
}
