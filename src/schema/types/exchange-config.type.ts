import { Field, Float, Int, ObjectType } from 'type-graphql';
import { Exchange } from '../enums';

@ObjectType('ApiKeyPermissions')
export class ApiKeyPermissionsType {
  @Field(() => Boolean) canRead!: boolean;
  @Field(() => Boolean) canTrade!: boolean;
  @Field(() => Boolean) canWithdraw!: boolean;
  @Field(() => Boolean) ipRestricted!: boolean;
}

@ObjectType('ExchangeConfig')
export class ExchangeConfigType {
  @Field(() => Exchange) exchange!: Exchange;
  @Field(() => String, { description: 'Never the key itself: the first and last four characters.' }) apiKeyMasked!: string;
  @Field(() => Boolean) testnet!: boolean;
  @Field(() => Int) leverage!: number;
  @Field(() => Float) maxPositionPct!: number;
  @Field(() => Boolean) isValid!: boolean;
  @Field(() => Date, { nullable: true }) lastVerifiedAt!: Date | null;
  @Field(() => String, { nullable: true }) lastVerifyError!: string | null;
  @Field(() => ApiKeyPermissionsType, { nullable: true }) permissions!: ApiKeyPermissionsType | null;
  @Field(() => Date) updatedAt!: Date;
}

@ObjectType('VerifyResult')
export class VerifyResultType {
  @Field(() => Boolean) ok!: boolean;
  @Field(() => String, { nullable: true, description: 'Why verification failed, in words a user can act on.' })
  reason!: string | null;
  @Field(() => ExchangeConfigType) config!: ExchangeConfigType;
}
