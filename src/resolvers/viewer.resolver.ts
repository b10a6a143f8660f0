import { Authorized, Ctx, FieldResolver, Query, Resolver } from 'type-graphql';
import type { ExchangeConfigService } from '../services/exchange-config.service';
import type { UserService } from '../services/user.service';
import type { GraphQLContext } from '../schema/context';
import { toExchangeConfigType } from '../schema/mappers/exchange-config.mapper';
import { ExchangeConfigType } from '../schema/types/exchange-config.type';
import { UserType } from '../schema/types/user.type';
import { ViewerType } from '../schema/types/viewer.type';
import { signedIn } from './signed-in';

/** `me` and the fields every domain adds to it; each reads only the context user's own data. */
@Resolver(() => ViewerType)
export class ViewerResolver {
  constructor(private readonly users: UserService, private readonly exchangeConfigs: ExchangeConfigService) {}

  @Authorized()
  @Query(() => ViewerType, { description: "The signed-in user's own world. UNAUTHENTICATED without a valid token." })
  me(@Ctx() ctx: GraphQLContext): ViewerType {
    return new ViewerType(signedIn(ctx).actor.id);
  }

  @FieldResolver(() => UserType)
  user(@Ctx() ctx: GraphQLContext) {
    return this.users.me(signedIn(ctx));
  }

  @FieldResolver(() => ExchangeConfigType, { nullable: true })
  async exchangeConfig(@Ctx() ctx: GraphQLContext): Promise<ExchangeConfigType | null> {
    const config = await this.exchangeConfigs.get(signedIn(ctx));
    return config ? toExchangeConfigType(config) : null;
  }
}
