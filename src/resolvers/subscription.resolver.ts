import { Authorized, Resolver, Root, Subscription } from 'type-graphql';
import { Topic } from '../realtime/topics';
import { SignalType } from '../schema/types/signal.type';

/** Live events from the bus. Per-user topics take the id from the authenticated context, never from arguments. */
@Resolver()
export class SubscriptionResolver {
  @Authorized()
  @Subscription(() => SignalType, { topics: Topic.SIGNAL_EMITTED })
  signalEmitted(@Root() signal: SignalType): SignalType {
    return signal;
  }
}
