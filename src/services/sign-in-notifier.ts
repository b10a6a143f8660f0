import type { Logger } from 'pino';
import type { MailService } from './mail.service';
import type { SignInNotifier } from './notifications/notifier';

/** Interim SignInNotifier over MailService: a failed mail is logged, never raised. */
export class MailSignInNotifier implements SignInNotifier {
  constructor(private readonly mail: MailService, private readonly logger: Logger) {}

  async signInFromNewIp(user: { id: string; email: string }, ip: string, at: Date): Promise<void> {
    try {
      await this.mail.send({
        to: user.email,
        subject: 'New sign-in to your account',
        text:
          `Your account was signed in to at ${at.toISOString()} from the address ${ip}, ` +
          `which it had not been signed in from before.\n\n` +
          `If this was you, there is nothing to do. If not, change your password now: ` +
          `that ends every session, and review your exchange key's permissions.`,
      });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, userId: user.id }, 'new sign-in mail could not be sent');
    }
  }
}
