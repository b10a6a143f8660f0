import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { Services } from '../app/services';
import type { GraphQLContext } from '../schema/context';
import { SubscriptionPlan } from '../schema/enums';
import { UpdateMeInput } from '../schema/types/inputs.type';
import { UserType } from '../schema/types/user.type';
import { signedIn } from './signed-in';

@Resolver()
export class AccountResolver {
  constructor(private readonly services: Services) {}

  @Authorized()
  @Mutation(() => UserType)
  updateMe(@Arg('input', () => UpdateMeInput) input: UpdateMeInput, @Ctx() ctx: GraphQLContext) {
    return this.services.users.updateMe(signedIn(ctx), input);
  }

  @Authorized()
  @Mutation(() => UserType)
  changePlan(@Arg('plan', () => SubscriptionPlan) plan: SubscriptionPlan, @Ctx() ctx: GraphQLContext) {
    return this.services.users.changePlan(signedIn(ctx), plan);
  }
}
