import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { InvoiceService } from '../services/billing/invoice.service';
import type { GraphQLContext } from '../schema/context';
import { InvoiceStatus, Role } from '../schema/enums';
import { InvoicePageType, InvoiceType } from '../schema/types/profit.type';
import { ViewerType } from '../schema/types/viewer.type';
import { signedIn } from './signed-in';

@Resolver(() => ViewerType)
export class InvoiceResolver {
  constructor(private readonly invoiceService: InvoiceService) {}

  @Authorized()
  @FieldResolver(() => [InvoiceType])
  invoices(@Ctx() ctx: GraphQLContext) {
    return this.invoiceService.mine(signedIn(ctx));
  }

  @Authorized(Role.ADMIN)
  @Query(() => InvoicePageType, { name: 'invoices' })
  allInvoices(
    @Ctx() ctx: GraphQLContext,
    @Arg('status', () => InvoiceStatus, { nullable: true }) status?: InvoiceStatus,
    @Arg('userId', () => ID, { nullable: true }) userId?: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    return this.invoiceService.list(signedIn(ctx), { status, userId, first, after });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Int, {
    description: 'Issues the invoices of the calendar month that starts at `month` (UTC 00:00 on a 1st), once that month is over; idempotent: a second run issues nothing new. Returns how many were issued.',
  })
  issueInvoices(@Arg('month', () => Date) month: Date, @Ctx() ctx: GraphQLContext) {
    return this.invoiceService.issue(signedIn(ctx), month);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => InvoiceType)
  markInvoicePaid(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('reference', () => String, { nullable: true }) reference?: string,
  ) {
    return this.invoiceService.markPaid(signedIn(ctx), id, reference);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => InvoiceType)
  voidInvoice(@Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string, @Ctx() ctx: GraphQLContext) {
    return this.invoiceService.void(signedIn(ctx), id, reason);
  }
}
