import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { ProfitService } from '../services/billing/profit.service';
import type { GraphQLContext } from '../schema/context';
import { PeriodType, Role } from '../schema/enums';
import { PlatformProfitType } from '../schema/types/admin.type';
import { ProfitSummaryType } from '../schema/types/profit.type';
import { ViewerType } from '../schema/types/viewer.type';
import { signedIn } from './signed-in';

@Resolver(() => ViewerType)
export class ProfitResolver {
  constructor(private readonly profits: ProfitService) {}

  @Authorized()
  @FieldResolver(() => ProfitSummaryType)
  profit(
    @Ctx() ctx: GraphQLContext,
    @Arg('period', () => PeriodType, { nullable: true, defaultValue: PeriodType.DAILY }) period?: PeriodType,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
  ) {
    return this.profits.profit(signedIn(ctx), { period, from, to });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Int)
  settleProfits(@Arg('date', () => Date) date: Date, @Ctx() ctx: GraphQLContext) {
    return this.profits.settle(signedIn(ctx), date);
  }

  @Authorized(Role.ADMIN)
  @Query(() => PlatformProfitType)
  platformProfit(
    @Ctx() ctx: GraphQLContext,
    @Arg('from', () => Date, { nullable: true }) from?: Date,
    @Arg('to', () => Date, { nullable: true }) to?: Date,
  ) {
    return this.profits.platformProfit(signedIn(ctx), { from, to });
  }
}
