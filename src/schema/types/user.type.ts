import { Field, ID, ObjectType } from 'type-graphql';
import { Role, SubscriptionPlan, UserStatus } from '../enums';

@ObjectType('User')
export class UserType {
  @Field(() => ID) id!: string;
  @Field(() => String) email!: string;
  @Field(() => Role) role!: Role;
  @Field(() => UserStatus) status!: UserStatus;
  @Field(() => SubscriptionPlan) subscription!: SubscriptionPlan;
  @Field(() => Date, { nullable: true }) trialEndsAt!: Date | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType('AuthPayload')
export class AuthPayloadType {
  @Field(() => String) accessToken!: string;
  @Field(() => Date, { description: 'Access token lifetime is 24 hours.' }) accessTokenExpiresAt!: Date;
  @Field(() => String) refreshToken!: string;
  @Field(() => UserType) user!: UserType;
}
