import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { AuthService } from '../services/auth.service';
import type { GraphQLContext } from '../schema/context';
import { RegisterInput } from '../schema/types/inputs.type';
import { AuthPayloadType, UserType } from '../schema/types/user.type';
import { signedIn } from './signed-in';

@Resolver()
export class AuthResolver {
  constructor(private readonly auth: AuthService) {}

  @Mutation(() => UserType, { description: 'A new user starts PENDING and receives a verification email.' })
  register(@Arg('input', () => RegisterInput) input: RegisterInput, @Ctx() ctx: GraphQLContext) {
    return this.auth.register(ctx.scope, input);
  }

  @Mutation(() => AuthPayloadType, { description: 'Activates the account and starts the trial; signs the user in.' })
  verifyEmail(@Arg('token', () => String) token: string, @Ctx() ctx: GraphQLContext) {
    return this.auth.verifyEmail(ctx.scope, token);
  }

  @Mutation(() => Boolean)
  resendVerification(@Arg('email', () => String) email: string, @Ctx() ctx: GraphQLContext) {
    return this.auth.resendVerification(ctx.scope, email);
  }

  @Mutation(() => AuthPayloadType, { description: 'After 5 failed attempts the account is locked for 15 minutes (RATE_LIMITED).' })
  login(@Arg('email', () => String) email: string, @Arg('password', () => String) password: string, @Ctx() ctx: GraphQLContext) {
    return this.auth.login(ctx.scope, email, password);
  }

  @Mutation(() => AuthPayloadType, { description: 'Rotates the refresh token; reusing an old one revokes the whole session.' })
  refreshSession(@Arg('refreshToken', () => String) refreshToken: string, @Ctx() ctx: GraphQLContext) {
    return this.auth.refresh(ctx.scope, refreshToken);
  }

  @Authorized()
  @Mutation(() => Boolean)
  logout(@Ctx() ctx: GraphQLContext) {
    return this.auth.logout(signedIn(ctx));
  }

  @Authorized()
  @Mutation(() => Boolean)
  changePassword(
    @Arg('currentPassword', () => String) currentPassword: string,
    @Arg('newPassword', () => String) newPassword: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return this.auth.changePassword(signedIn(ctx), currentPassword, newPassword);
  }
}
