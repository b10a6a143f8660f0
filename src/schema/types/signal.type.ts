import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { ExecutionStatus, PositionSide, SignalAction, SignalSource } from '../enums';
import { DecimalScalar } from '../scalars';
import { OrderType } from './trading.type';

@ObjectType('WitnessVote')
export class WitnessVoteType {
  @Field(() => String) witness!: string;
  @Field(() => PositionSide) side!: PositionSide;
  @Field(() => Float) confidence!: number;
  @Field(() => String) reason!: string;
}

@ObjectType('Signal')
export class SignalType {
  @Field(() => ID) id!: string;
  @Field(() => SignalSource) source!: SignalSource;
  @Field(() => SignalAction) action!: SignalAction;
  @Field(() => String) symbol!: string;
  @Field(() => Float, { description: "Fraction (0, 1] of each user's allowed position that this signal uses." })
  strength!: number;
  @Field(() => DecimalScalar, { nullable: true }) referencePrice!: string | null;
  @Field(() => [WitnessVoteType]) votes!: WitnessVoteType[];
  @Field(() => Date) createdAt!: Date;
}

@ObjectType('UserExecution')
export class UserExecutionType {
  @Field(() => ID) signalId!: string;
  @Field(() => ID) userId!: string;
  @Field(() => ExecutionStatus) status!: ExecutionStatus;
  @Field(() => String, { nullable: true, description: 'Why a user was skipped or failed.' }) reason!: string | null;
  @Field(() => OrderType, { nullable: true }) order!: OrderType | null;
  @Field(() => Int) latencyMs!: number;
  @Field(() => Int, { nullable: true, description: "Position of this user in the signal's dispatch order (0 = first)." })
  dispatchRank!: number | null;
  @Field(() => DecimalScalar, { nullable: true }) fillPrice!: string | null;
  @Field(() => Float, { nullable: true, description: "Fill price against the signal's reference price, as a ratio (positive = worse for the user)." })
  slippage!: number | null;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType('ExecutionReport')
export class ExecutionReportType {
  @Field(() => SignalType) signal!: SignalType;
  @Field(() => Int) total!: number;
  @Field(() => Int) placed!: number;
  @Field(() => Int) skipped!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) durationMs!: number;
  @Field(() => [UserExecutionType]) results!: UserExecutionType[];
}
