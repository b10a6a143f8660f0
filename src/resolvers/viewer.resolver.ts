import { Authorized, Ctx, FieldResolver, Query, Resolver } from 'type-graphql';
import type { Services } from '../app/services';
import type { GraphQLContext } from '../schema/context';
import { UserType } from '../schema/types/user.type';
import { ViewerType } from '../schema/types/viewer.type';
import { signedIn } from './signed-in';

/** `me` and the fields every domain adds to it; each reads only the context user's own data. */
@Resolver(() => ViewerType)
export class ViewerResolver {
  constructor(private readonly services: Services) {}

  @Authorized()
  @Query(() => ViewerType, { description: "The signed-in user's own world. UNAUTHENTICATED without a valid token." })
  me(@Ctx() ctx: GraphQLContext): ViewerType {
    return new ViewerType(signedIn(ctx).actor.id);
  }

  @FieldResolver(() => UserType)
  user(@Ctx() ctx: GraphQLContext) {
    return this.services.users.me(signedIn(ctx));
  }
}
