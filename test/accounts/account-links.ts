import type { MailCapture } from '../support/mail-capture';
import type { TestApp } from '../support/test-app';

/** Shared by the account life-cycle e2e files: links read from mail, followed over HTTP like a browser. */

const LINK = (route: string) => new RegExp(`(https?://[^\\s"<>]+/${route}\\?token=[A-Za-z0-9_-]+)`);

/**
 * The link to `route` in the `nth` (1-based) mail to `email` with this subject, read from the plain-text
 * part; waits until that mail has arrived.
 */
export async function linkFromMail(mail: MailCapture, email: string, subject: string, route: 'verify-email' | 'reset-password', nth = 1): Promise<string> {
  await mail.waitForMail(email, () => mail.to(email).filter((m) => m.subject === subject).length >= nth, 15_000, `${nth} × "${subject}"`);
  const m = mail.to(email).filter((x) => x.subject === subject)[nth - 1];
  return LINK(route).exec(m.text)![1];
}

export const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

/** The link's path and query on this test server (PUBLIC_URL names a host the test does not serve). */
export function onServer(t: TestApp, link: string): string {
  const url = new URL(link);
  return `${new URL(t.url).origin}${url.pathname}${url.search}`;
}

export async function follow(t: TestApp, link: string, method: 'GET' | 'HEAD' = 'GET'): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(onServer(t, link), { method, redirect: 'manual' });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** Submits an HTML form the way a browser does without JavaScript: urlencoded, to the action relative to the page. */
export async function submitForm(t: TestApp, pageUrl: string, action: string, fields: Record<string, string>) {
  const target = new URL(action, onServer(t, pageUrl));
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  return { status: res.status, body: await res.text(), headers: res.headers, url: target.toString() };
}

/** The hidden token and the action of the reset form in a page. */
export function formOf(html: string): { action: string; token: string } {
  const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
  const token = /<input type="hidden" name="token" value="([^"]*)">/.exec(html)?.[1];
  if (!action || token === undefined) throw new Error('no reset form in the page');
  return { action, token };
}

export const sql = (t: TestApp, query: string, params: unknown[] = []) => t.app.services.orm.em.fork().getConnection().execute(query, params);
