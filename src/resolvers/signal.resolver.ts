import { Arg, Authorized, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { toReportEvent } from '../schema/mappers/trading.mapper';
import type { GraphQLContext } from '../schema/context';
import { Role } from '../schema/enums';
import { ManualSignalInput } from '../schema/types/inputs.type';
import { ExecutionReportType, SignalType } from '../schema/types/signal.type';
import { toSignalType } from '../schema/mappers/signal.mapper';
import type { SignalService } from '../services/signal.service';
import { signedIn } from './signed-in';

@Resolver()
export class SignalResolver {
  constructor(private readonly signalService: SignalService) {}

  @Authorized()
  @Query(() => [SignalType], { description: 'Recent signals of the shared strategy, with the witnesses\' votes.' })
  async signals(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first?: number) {
    return (await this.signalService.list(signedIn(ctx), first)).map(toSignalType);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExecutionReportType, {
    description: "Returns once every selected user's outcome is known (placed, skipped or failed).",
  })
  async broadcastSignal(@Arg('input', () => ManualSignalInput) input: ManualSignalInput, @Ctx() ctx: GraphQLContext) {
    return toReportEvent(await this.signalService.broadcast(signedIn(ctx), input));
  }
}
