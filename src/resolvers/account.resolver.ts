import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { PlanService } from '../services/billing/plan.service';
import type { UserService } from '../services/user.service';
import type { GraphQLContext } from '../schema/context';
import { SubscriptionPlan } from '../schema/enums';
import { UpdateMeInput } from '../schema/types/inputs.type';
import { UserType } from '../schema/types/user.type';
import { signedIn } from './signed-in';

@Resolver()
export class AccountResolver {
  constructor(private readonly users: UserService, private readonly plans: PlanService) {}

  @Authorized()
  @Mutation(() => UserType)
  updateMe(@Arg('input', () => UpdateMeInput) input: UpdateMeInput, @Ctx() ctx: GraphQLContext) {
    return this.users.updateMe(signedIn(ctx), input);
  }

  @Authorized()
  @Mutation(() => UserType)
  changePlan(@Arg('plan', () => SubscriptionPlan) plan: SubscriptionPlan, @Ctx() ctx: GraphQLContext) {
    return this.plans.changePlan(signedIn(ctx), plan);
  }
}
