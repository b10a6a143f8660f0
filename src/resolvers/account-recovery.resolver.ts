import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { PasswordResetService } from '../services/password-reset.service';
import type { GraphQLContext } from '../schema/context';

/** Forgotten passwords. Neither mutation needs a signed-in user. */
@Resolver()
export class AccountRecoveryResolver {
  constructor(private readonly resets: PasswordResetService) {}

  @Mutation(() => Boolean, { description: 'Always true, whether or not the email has an account; the mail carries a single-use link.' })
  requestPasswordReset(@Arg('email', () => String) email: string, @Ctx() ctx: GraphQLContext) {
    return this.resets.request(ctx.scope, email);
  }

  @Mutation(() => Boolean, { description: 'Sets the new password, ends every session of the user.' })
  resetPassword(@Arg('token', () => String) token: string, @Arg('newPassword', () => String) newPassword: string, @Ctx() ctx: GraphQLContext) {
    return this.resets.reset(ctx.scope, token, newPassword);
  }
}
