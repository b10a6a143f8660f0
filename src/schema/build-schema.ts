import 'reflect-metadata';
import './enums';
import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync, type ContainerType } from 'type-graphql';
import type { Services } from '../app/services';
import type { BusPubSub } from '../realtime/event-bus';
import { AccountResolver } from '../resolvers/account.resolver';
import { AdminUserResolver } from '../resolvers/admin-user.resolver';
import { AuthResolver } from '../resolvers/auth.resolver';
import { ExchangeConfigResolver } from '../resolvers/exchange-config.resolver';
import { RiskResolver } from '../resolvers/risk.resolver';
import { SignalResolver } from '../resolvers/signal.resolver';
import { TradingResolver } from '../resolvers/trading.resolver';
import { SubscriptionResolver } from '../resolvers/subscription.resolver';
import { ViewerResolver } from '../resolvers/viewer.resolver';
import { authChecker } from './auth-checker';
import { DateTimeScalar } from './scalars';

export const RESOLVERS = [
  AuthResolver, ViewerResolver, AccountResolver, AdminUserResolver, ExchangeConfigResolver, TradingResolver, SignalResolver, RiskResolver,
  SubscriptionResolver,
] as const;

/** Resolvers are built once, each receiving the process's services. */
function containerFor(services: Services | null): ContainerType {
  const instances = new Map<unknown, unknown>();
  return {
    get(someClass: new (services: Services) => unknown) {
      if (!services) throw new Error('schema built without services cannot execute');
      if (!instances.has(someClass)) instances.set(someClass, new someClass(services));
      return instances.get(someClass);
    },
  } as ContainerType;
}

export function buildAppSchema(options: { services?: Services; pubSub?: BusPubSub } = {}): GraphQLSchema {
  return buildSchemaSync({
    resolvers: RESOLVERS as unknown as [Function, ...Function[]],
    authChecker,
    // class-validator runs on inputs; inputs without decorators are still allowed.
    validate: { forbidUnknownValues: false },
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    pubSub: (options.pubSub ?? createPubSub()) as never,
    container: containerFor(options.services ?? null),
  });
}
