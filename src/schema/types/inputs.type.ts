import { IsEmail, IsOptional, MaxLength } from 'class-validator';
import { Field, Float, InputType, Int } from 'type-graphql';
import { Exchange, SignalAction } from '../enums';

@InputType('RegisterInput')
export class RegisterInput {
  @Field(() => String) @MaxLength(320) email!: string;
  @Field(() => String) password!: string;
}

@InputType('UpdateMeInput')
export class UpdateMeInput {
  @Field(() => String, { nullable: true }) @IsOptional() @IsEmail({}, { message: 'email must be an email address' })
  email?: string | null;
  @Field(() => String, { nullable: true, description: 'Required when the email changes.' }) @IsOptional() @MaxLength(1024)
  currentPassword?: string | null;
}

@InputType('ExchangeConfigInput')
export class ExchangeConfigInput {
  @Field(() => Exchange, { nullable: true, defaultValue: Exchange.BINANCE }) exchange?: Exchange | null;
  @Field(() => String, { nullable: true, description: 'Required when creating; leave out to keep the stored key on update.' })
  apiKey?: string | null;
  @Field(() => String, { nullable: true }) apiSecret?: string | null;
  @Field(() => Boolean, { nullable: true }) testnet?: boolean | null;
  @Field(() => Int, { nullable: true }) leverage?: number | null;
  @Field(() => Float, { nullable: true }) maxPositionPct?: number | null;
}

@InputType('ManualSignalInput')
export class ManualSignalInput {
  @Field(() => SignalAction) action!: SignalAction;
  @Field(() => String, { nullable: true, defaultValue: 'BTCUSDT' }) symbol?: string | null;
  @Field(() => Float, { nullable: true, defaultValue: 1.0 }) strength?: number | null;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(500) reason?: string | null;
  @Field(() => String, {
    nullable: true,
    description: "A repeated broadcast with the same key returns the first one's report instead of trading again.",
  })
  idempotencyKey?: string | null;
}
