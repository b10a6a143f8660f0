import { registerEnumType } from 'type-graphql';
import {
  Exchange, ExecutionStatus, InvoiceStatus, OrderSide, OrderStatus, PeriodType, PositionSide, Role, SignalAction,
  SignalSource, SubscriptionPlan, UserStatus,
} from '../entities/enums';

registerEnumType(UserStatus, { name: 'UserStatus' });
registerEnumType(SubscriptionPlan, { name: 'SubscriptionPlan' });
registerEnumType(Role, { name: 'Role' });
registerEnumType(Exchange, { name: 'Exchange' });
registerEnumType(OrderSide, { name: 'OrderSide' });
registerEnumType(PositionSide, { name: 'PositionSide' });
registerEnumType(OrderStatus, { name: 'OrderStatus' });
registerEnumType(PeriodType, { name: 'PeriodType' });
registerEnumType(SignalAction, { name: 'SignalAction' });
registerEnumType(SignalSource, { name: 'SignalSource' });
registerEnumType(ExecutionStatus, { name: 'ExecutionStatus' });
registerEnumType(InvoiceStatus, { name: 'InvoiceStatus' });

export {
  Exchange, ExecutionStatus, InvoiceStatus, OrderSide, OrderStatus, PeriodType, PositionSide, Role, SignalAction,
  SignalSource, SubscriptionPlan, UserStatus,
};
