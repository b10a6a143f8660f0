import type { EngineEvents } from '../engine/engine-events';
import { toRiskStateType } from '../schema/mappers/risk.mapper';
import { toExecutionEvent, toOrderEvent, toPositionEvent, toReportEvent } from '../schema/mappers/trading.mapper';
import type { EventBus } from './event-bus';
import { Topic } from './topics';

/**
 * The engine's domain events, as the GraphQL subscriptions' payloads on the
 * bus: each user's own topics, and the admins' execution reports.
 */
export function bridgeEngineToBus(events: EngineEvents, bus: EventBus): Array<() => void> {
  return [
    events.on('OrderChanged', (e) => bus.publishToUser(Topic.ORDER_UPDATED, e.userId, toOrderEvent(e.order))),
    events.on('PositionChanged', (e) => bus.publishToUser(Topic.POSITION_UPDATED, e.userId, toPositionEvent(e.position))),
    events.on('RiskStateChanged', (e) => bus.publishToUser(Topic.RISK_STATE_CHANGED, e.userId, toRiskStateType(e.state, e.limits))),
    events.on('ExecutionReported', ({ report }) => {
      for (const row of report.results) bus.publishToUser(Topic.EXECUTION_RESULT, row.user.id, toExecutionEvent(row));
      bus.publish(Topic.EXECUTION_REPORTS, toReportEvent(report));
    }),
  ];
}
