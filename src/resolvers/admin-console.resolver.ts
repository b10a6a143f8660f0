import { Arg, Authorized, Ctx, ID, Query, Resolver } from 'type-graphql';
import type { AdminConsoleService } from '../services/admin-console.service';
import type { GraphQLContext } from '../schema/context';
import { Role } from '../schema/enums';
import { toUserDetailType } from '../schema/mappers/admin.mapper';
import { PlatformStatsType, UserDetailType } from '../schema/types/admin.type';
import { signedIn } from './signed-in';

/** The admin console's reads: one user's whole picture and the platform's figures. */
@Resolver()
export class AdminConsoleResolver {
  constructor(private readonly console: AdminConsoleService) {}

  @Authorized(Role.ADMIN)
  @Query(() => UserDetailType, { nullable: true })
  async user(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<UserDetailType> {
    return toUserDetailType(await this.console.userDetail(signedIn(ctx), id));
  }

  @Authorized(Role.ADMIN)
  @Query(() => PlatformStatsType)
  platformStats(@Ctx() ctx: GraphQLContext) {
    return this.console.platformStats(signedIn(ctx));
  }
}
