import { Authorized, Resolver, Root, Subscription } from 'type-graphql';
import { Topic } from '../realtime/topics';
import type { GraphQLContext } from '../schema/context';
import { Role } from '../schema/enums';
import { ExecutionReportType, SignalType, UserExecutionType } from '../schema/types/signal.type';
import { OrderType, PositionType } from '../schema/types/trading.type';
import { RiskStateType } from '../schema/types/risk.type';

/** The subscriber's own topic: the id comes from the authenticated context, never from arguments. */
const ownTopic = ({ context }: { context: GraphQLContext }) => context.scope.actor?.id ?? 'nobody';

/** Live events from the bus; payloads are already in the GraphQL types' shape. */
@Resolver()
export class SubscriptionResolver {
  @Authorized()
  @Subscription(() => SignalType, { topics: Topic.SIGNAL_EMITTED })
  signalEmitted(@Root() signal: SignalType): SignalType {
    return signal;
  }

  @Authorized()
  @Subscription(() => OrderType, { topics: Topic.ORDER_UPDATED, topicId: ownTopic, description: "The signed-in user's own events only." })
  orderUpdated(@Root() order: OrderType): OrderType {
    return order;
  }

  @Authorized()
  @Subscription(() => PositionType, { topics: Topic.POSITION_UPDATED, topicId: ownTopic })
  positionUpdated(@Root() position: PositionType): PositionType {
    return position;
  }

  @Authorized()
  @Subscription(() => UserExecutionType, { topics: Topic.EXECUTION_RESULT, topicId: ownTopic })
  executionResult(@Root() execution: UserExecutionType): UserExecutionType {
    return execution;
  }

  @Authorized()
  @Subscription(() => RiskStateType, { topics: Topic.RISK_STATE_CHANGED, topicId: ownTopic })
  riskStateChanged(@Root() risk: RiskStateType): RiskStateType {
    return risk;
  }

  @Authorized(Role.ADMIN)
  @Subscription(() => ExecutionReportType, { topics: Topic.EXECUTION_REPORTS, description: 'Admin only.' })
  executionReports(@Root() report: ExecutionReportType): ExecutionReportType {
    return report;
  }
}
