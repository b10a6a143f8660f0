import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Query, Resolver } from 'type-graphql';
import type { AuditService } from '../services/audit.service';
import { pageSize } from '../services/pagination';
import type { GraphQLContext } from '../schema/context';
import { Role } from '../schema/enums';
import { AuditEntryType } from '../schema/types/admin.type';
import { ViewerType } from '../schema/types/viewer.type';
import { signedIn } from './signed-in';

/** The audit log: all of it for admins, and `me.auditLog`, the user's own security history. */
@Resolver(() => ViewerType)
export class AuditResolver {
  constructor(private readonly audit: AuditService) {}

  @Authorized(Role.ADMIN)
  @Query(() => [AuditEntryType])
  auditLog(
    @Ctx() ctx: GraphQLContext,
    @Arg('userId', () => ID, { nullable: true }) userId?: string,
    @Arg('first', () => Int, { nullable: true, defaultValue: 100 }) first?: number,
  ) {
    return this.audit.list(signedIn(ctx), { userId: userId ?? null, first: pageSize(first, 100) });
  }

  @Authorized()
  @FieldResolver(() => [AuditEntryType], {
    name: 'auditLog',
    description: "The user's own security-relevant audit entries (sign-ins, key and plan changes, locks), newest first.",
  })
  ownAuditLog(@Ctx() ctx: GraphQLContext, @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number) {
    return this.audit.listOwn(signedIn(ctx), pageSize(first, 50));
  }
}
