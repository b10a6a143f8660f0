import 'reflect-metadata';
import './enums';
import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { buildSchemaSync, type ContainerType } from 'type-graphql';
import type { Services } from '../app/services';
import type { BusPubSub } from '../realtime/event-bus';
import { AccountResolver } from '../resolvers/account.resolver';
import { AccountRecoveryResolver } from '../resolvers/account-recovery.resolver';
import { AdminConsoleResolver } from '../resolvers/admin-console.resolver';
import { AdminUserResolver } from '../resolvers/admin-user.resolver';
import { AuditResolver } from '../resolvers/audit.resolver';
import { AuthResolver } from '../resolvers/auth.resolver';
import { ExchangeConfigResolver } from '../resolvers/exchange-config.resolver';
import { InvoiceResolver } from '../resolvers/invoice.resolver';
import { ProfitResolver } from '../resolvers/profit.resolver';
import { RiskResolver } from '../resolvers/risk.resolver';
import { SignalResolver } from '../resolvers/signal.resolver';
import { TradingResolver } from '../resolvers/trading.resolver';
import { SubscriptionResolver } from '../resolvers/subscription.resolver';
import { ViewerResolver } from '../resolvers/viewer.resolver';
import { createAuthChecker } from './auth-checker';
import { DateTimeScalar } from './scalars';

/** Each resolver and what it is given: the services it calls, never the whole bag. */
const RESOLVER_FACTORIES = new Map<Function, (s: Services) => unknown>([
  [AuthResolver, (s) => new AuthResolver(s.auth)],
  [ViewerResolver, (s) => new ViewerResolver(s.users, s.exchangeConfigs)],
  [AccountResolver, (s) => new AccountResolver(s.users, s.billing.plans)],
  [AdminUserResolver, (s) => new AdminUserResolver(s.users)],
  [AdminConsoleResolver, (s) => new AdminConsoleResolver(s.adminConsole)],
  [AuditResolver, (s) => new AuditResolver(s.audit)],
  [AccountRecoveryResolver, (s) => new AccountRecoveryResolver(s.passwordResets)],
  [ExchangeConfigResolver, (s) => new ExchangeConfigResolver(s.exchangeConfigs)],
  [TradingResolver, (s) => new TradingResolver(s.trading)],
  [SignalResolver, (s) => new SignalResolver(s.signals)],
  [RiskResolver, (s) => new RiskResolver(s.risk)],
  [ProfitResolver, (s) => new ProfitResolver(s.billing.profits)],
  [InvoiceResolver, (s) => new InvoiceResolver(s.billing.invoices)],
  [SubscriptionResolver, () => new SubscriptionResolver()],
]);

export const RESOLVERS = [...RESOLVER_FACTORIES.keys()];

/** Resolvers are built once per process, each from its factory. */
function containerFor(services: Services | null): ContainerType {
  const instances = new Map<unknown, unknown>();
  return {
    get(someClass: Function) {
      if (!services) throw new Error('schema built without services cannot execute');
      const factory = RESOLVER_FACTORIES.get(someClass);
      if (!factory) throw new Error(`no factory for resolver ${someClass.name}`);
      if (!instances.has(someClass)) instances.set(someClass, factory(services));
      return instances.get(someClass);
    },
  } as ContainerType;
}

export function buildAppSchema(options: { services?: Services; pubSub?: BusPubSub } = {}): GraphQLSchema {
  return buildSchemaSync({
    resolvers: RESOLVERS as unknown as [Function, ...Function[]],
    authChecker: createAuthChecker({ audit: options.services?.audit, logger: options.services?.logger.child({ module: 'auth-checker' }) }),
    // class-validator runs on inputs; inputs without decorators are still allowed.
    validate: { forbidUnknownValues: false },
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    pubSub: (options.pubSub ?? createPubSub()) as never,
    container: containerFor(options.services ?? null),
  });
}
