import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { ExchangeConfigService } from '../services/exchange-config.service';
import type { GraphQLContext } from '../schema/context';
import { toExchangeConfigType } from '../schema/mappers/exchange-config.mapper';
import { ExchangeConfigType, VerifyResultType } from '../schema/types/exchange-config.type';
import { ExchangeConfigInput } from '../schema/types/inputs.type';
import { signedIn } from './signed-in';

@Resolver()
export class ExchangeConfigResolver {
  constructor(private readonly exchangeConfigs: ExchangeConfigService) {}

  @Authorized()
  @Mutation(() => ExchangeConfigType, { description: 'Stores the key encrypted, then verifies it with the exchange.' })
  async setExchangeConfig(@Arg('input', () => ExchangeConfigInput) input: ExchangeConfigInput, @Ctx() ctx: GraphQLContext) {
    return toExchangeConfigType(await this.exchangeConfigs.set(signedIn(ctx), input));
  }

  @Authorized()
  @Mutation(() => VerifyResultType)
  async verifyExchangeConfig(@Ctx() ctx: GraphQLContext): Promise<VerifyResultType> {
    const outcome = await this.exchangeConfigs.verify(signedIn(ctx));
    return { ok: outcome.ok, reason: outcome.reason, config: toExchangeConfigType(outcome.config) };
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteExchangeConfig(@Ctx() ctx: GraphQLContext) {
    return this.exchangeConfigs.remove(signedIn(ctx));
  }
}
