import express, { type Request, type Response, type Router } from 'express';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { EmailVerificationService, VerifyLinkOutcome } from '../services/email-verification.service';
import type { PasswordResetService, ResetOutcome } from '../services/password-reset.service';
import type { TokenProblem } from '../services/email-token.service';
import { TRIAL_DAYS } from '../domain/plans';
import type { Scope } from '../services/scope';
import { AccountPageRenderer } from './pages/account-page-renderer';

type Page = { status: number; title: string; message: string };

const TOKEN_PAGES: Record<TokenProblem, Page> = {
  unknown: { status: 404, title: 'This link is not valid', message: 'Copy the whole link from the mail into the address bar, or ask for a new one.' },
  used: { status: 410, title: 'This link was already used', message: 'Each link works once. If it did what you wanted, there is nothing more to do; otherwise ask for a new one.' },
  expired: { status: 410, title: 'This link has expired', message: 'Ask for a new one; it will be valid again for a while.' },
};

function verifyPage(outcome: VerifyLinkOutcome): Page {
  switch (outcome.kind) {
    case 'verified':
      return { status: 200, title: 'Email address verified', message: `Your account is active and your ${TRIAL_DAYS}-day free trial has started. You can sign in now.` };
    case 'email-changed':
      return { status: 200, title: 'Email address changed', message: `Your account now signs in with ${outcome.newEmail}. Every other session was signed out.` };
    case 'inactive':
      return { status: 403, title: 'This account is not active', message: 'The account this link belongs to is suspended or closed; nothing was changed.' };
    case 'taken':
      return { status: 409, title: 'This address is already in use', message: 'Another account started using this address before it was confirmed here; nothing was changed.' };
    default:
      return TOKEN_PAGES[outcome.kind];
  }
}

/**
 * GET /verify-email and GET/POST /reset-password: the pages behind the links
 * in mails. Thin like a resolver: read the token, call the service, answer a
 * page. The token is never logged; the pages are never cached or framed and
 * never send a Referer (the token is in their URL).
 */
export function accountPages(deps: {
  orm: MikroORM;
  emailVerification: Pick<EmailVerificationService, 'followLink'>;
  passwordResets: Pick<PasswordResetService, 'inspect' | 'attempt'>;
  /** The client's address for audit rows, through trusted proxies only (TRUST_PROXY). */
  clientIp: (req: Request) => string | null;
  logger: Logger;
}): Router {
  const pages = new AccountPageRenderer();
  const router = express.Router();
  const scopeOf = (req: Request): Scope => ({ em: deps.orm.em.fork(), actor: null, ip: deps.clientIp(req) });
  const tokenOf = (value: unknown) => (typeof value === 'string' ? value : '');

  const send = (res: Response, status: number, html: string) => {
    res
      .status(status)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': pages.contentSecurityPolicy,
        'Cache-Control': 'no-store',
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
      })
      .send(html);
  };
  const sendPage = (res: Response, page: Page) => send(res, page.status, pages.messagePage(page.title, page.message));
  const failed = (res: Response, route: string, err: unknown) => {
    // The error, not the request: the URL carries the token.
    deps.logger.error({ route, err: (err as Error)?.message }, 'account page failed');
    sendPage(res, { status: 500, title: 'Something went wrong', message: 'Nothing was changed. Try the link again in a few minutes.' });
  };

  router.get('/verify-email', async (req, res) => {
    // Link scanners probe with HEAD: answer without spending the token.
    if (req.method === 'HEAD') return send(res, 200, '');
    try {
      const outcome = await deps.emailVerification.followLink(scopeOf(req), tokenOf(req.query.token));
      deps.logger.info({ outcome: outcome.kind }, 'verification link followed');
      sendPage(res, verifyPage(outcome));
    } catch (err) {
      failed(res, 'verify-email', err);
    }
  });

  router.get('/reset-password', async (req, res) => {
    try {
      const token = tokenOf(req.query.token);
      const outcome = await deps.passwordResets.inspect(scopeOf(req), token);
      if (outcome.kind === 'valid') send(res, 200, pages.resetFormPage(token, null));
      else sendPage(res, TOKEN_PAGES[outcome.kind]);
    } catch (err) {
      failed(res, 'reset-password', err);
    }
  });

  router.post('/reset-password', express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 }), async (req, res) => {
    try {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const token = tokenOf(body.token);
      const password = tokenOf(body.password);
      if (password !== tokenOf(body.confirm)) {
        const check = await deps.passwordResets.inspect(scopeOf(req), token);
        if (check.kind !== 'valid') return sendPage(res, TOKEN_PAGES[check.kind]);
        return send(res, 400, pages.resetFormPage(token, 'The two passwords differ; type the same one twice.'));
      }
      const outcome: ResetOutcome = await deps.passwordResets.attempt(scopeOf(req), token, password);
      deps.logger.info({ outcome: outcome.kind }, 'password reset form submitted');
      if (outcome.kind === 'done') {
        return sendPage(res, { status: 200, title: 'Password changed', message: 'Your new password is set and every session was signed out. Sign in with the new password.' });
      }
      if (outcome.kind === 'weak') return send(res, 400, pages.resetFormPage(token, outcome.message));
      sendPage(res, TOKEN_PAGES[outcome.kind]);
    } catch (err) {
      failed(res, 'reset-password', err);
    }
  });

  // A body over the limit or malformed: a page, never express's default error page (stack traces in development).
  router.use((err: Error & { status?: number }, _req: Request, res: Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) return failed(res, 'account-pages', err);
    sendPage(res, { status, title: 'This request could not be read', message: 'Go back to the link in the mail and try again.' });
  });

  return router;
}
