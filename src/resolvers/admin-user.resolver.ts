import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { UserService } from '../services/user.service';
import type { GraphQLContext } from '../schema/context';
import { Role, SubscriptionPlan, UserStatus } from '../schema/enums';
import { UserPageType } from '../schema/types/admin.type';
import { UserType } from '../schema/types/user.type';
import { signedIn } from './signed-in';

@Resolver()
export class AdminUserResolver {
  constructor(private readonly userService: UserService) {}

  @Authorized(Role.ADMIN)
  @Query(() => UserPageType)
  users(
    @Ctx() ctx: GraphQLContext,
    @Arg('status', () => UserStatus, { nullable: true }) status?: UserStatus,
    @Arg('plan', () => SubscriptionPlan, { nullable: true }) plan?: SubscriptionPlan,
    @Arg('search', () => String, { nullable: true }) search?: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    return this.userService.list(signedIn(ctx), { status, plan, search, first, after });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType)
  suspendUser(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('reason', () => String, { nullable: true }) reason?: string,
  ) {
    return this.userService.setStatus(signedIn(ctx), id, UserStatus.SUSPENDED, reason ?? null);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType)
  activateUser(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext) {
    return this.userService.setStatus(signedIn(ctx), id, UserStatus.ACTIVE, null);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => UserType)
  banUser(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('reason', () => String, { nullable: true }) reason?: string,
  ) {
    return this.userService.setStatus(signedIn(ctx), id, UserStatus.BANNED, reason ?? null);
  }
}
