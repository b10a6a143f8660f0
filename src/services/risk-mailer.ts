import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { RiskNotifier } from '../engine/ports';
import { User } from '../entities/user.entity';
import type { MailService } from './mail.service';

/** The risk side's notices to the user; never blocks or fails the judgement that caused them. */
export class RiskMailer implements RiskNotifier {
  constructor(private readonly deps: { orm: MikroORM; mail: MailService; logger: Logger }) {}

  riskLocked(userId: string, reason: string): void {
    this.send(userId, 'Trading paused on your account: risk limit reached', `No new positions will be opened on your account for now:\n\n${reason}\n\nOpen positions can still be closed by the strategy.`);
  }

  riskLifted(userId: string, reason: string): void {
    this.send(userId, 'Trading resumed on your account', `The risk lock on your account was lifted: ${reason}.`);
  }

  private send(userId: string, subject: string, text: string): void {
    void this.deps.orm.em
      .fork()
      .findOne(User, { id: userId })
      .then((user) => (user ? this.deps.mail.send({ to: user.email, subject, text }) : undefined))
      .catch((err) => this.deps.logger.error({ userId, err: (err as Error).message }, 'risk mail not sent'));
  }
}
