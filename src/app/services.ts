import type { MikroORM } from '@mikro-orm/postgresql';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import type { AppConfig } from '../config/app-config';
import type { EventBus } from '../realtime/event-bus';
import { MemoryAttemptCounter, RedisAttemptCounter, type AttemptCounter } from '../services/attempt-counter';
import { AuditService } from '../services/audit.service';
import { AuthService } from '../services/auth.service';
import { MailService } from '../services/mail.service';
import { TokenService } from '../services/token.service';
import { UserService } from '../services/user.service';

const LOGIN_LOCK = { limit: 5, lockMs: 15 * 60 * 1000 };

/** Everything resolvers and jobs call, built once per process. */
export interface Services {
  config: AppConfig;
  logger: Logger;
  orm: MikroORM;
  bus: EventBus;
  redis: Redis | null;
  tokens: TokenService;
  mail: MailService;
  audit: AuditService;
  auth: AuthService;
  users: UserService;
}

export function createServices(deps: { config: AppConfig; logger: Logger; orm: MikroORM; bus: EventBus }): Services {
  const { config, logger, orm, bus } = deps;
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : null;
  const loginAttempts: AttemptCounter = redis
    ? new RedisAttemptCounter(redis, 'login', LOGIN_LOCK)
    : new MemoryAttemptCounter(LOGIN_LOCK);
  const tokens = new TokenService(config.secrets.jwtSecret);
  const mail = new MailService({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, dataDir: config.dataDir }, logger.child({ module: 'mail' }));
  const audit = new AuditService();
  const auth = new AuthService({ tokens, mail, audit, loginAttempts, bus, publicUrl: config.publicUrl, logger: logger.child({ module: 'auth' }) });
  const users = new UserService({ audit, auth, logger });
  return { config, logger, orm, bus, redis, tokens, mail, audit, auth, users };
}

export async function closeServices(services: Services): Promise<void> {
  services.mail.close();
  await services.redis?.quit().catch(() => undefined);
}
