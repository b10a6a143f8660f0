import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Resolver } from 'type-graphql';
import type { RiskService } from '../services/risk.service';
import type { GraphQLContext } from '../schema/context';
import { Role } from '../schema/enums';
import { RiskEventType, RiskLimitsInput, RiskStateType } from '../schema/types/risk.type';
import { ViewerType } from '../schema/types/viewer.type';
import { badInput } from '../errors/app-error';
import { signedIn } from './signed-in';

@Resolver(() => ViewerType)
export class RiskResolver {
  constructor(private readonly riskService: RiskService) {}

  @Authorized()
  @FieldResolver(() => RiskStateType)
  risk(@Ctx() ctx: GraphQLContext) {
    return this.riskService.view(signedIn(ctx));
  }

  @Authorized()
  @FieldResolver(() => [RiskEventType], { description: 'Locks, automatic lifts, admin unlocks and limit changes, newest first.' })
  riskEvents(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number) {
    return this.riskService.events(signedIn(ctx), first);
  }

  @Authorized()
  @Mutation(() => RiskStateType)
  updateRiskLimits(@Arg('input', () => RiskLimitsInput) input: RiskLimitsInput, @Ctx() ctx: GraphQLContext) {
    return this.riskService.updateLimits(signedIn(ctx), input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => RiskStateType)
  unlockRisk(@Arg('userId', () => ID) userId: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: GraphQLContext) {
    if (!reason.trim() || reason.length > 500) throw badInput('reason must say why, in at most 500 characters', 'reason');
    return this.riskService.unlock(signedIn(ctx), userId, reason.trim());
  }
}
