import { createHash } from 'node:crypto';
import Handlebars from 'handlebars';

const STYLE = `body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;font-size:16px;line-height:1.5;color:#1a1a1a;background:#f6f6f4;margin:0}
main{max-width:420px;margin:10vh auto;background:#fff;padding:32px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:22px;margin:0 0 16px}label{display:block;margin:16px 0 4px;font-weight:600}
input{box-sizing:border-box;width:100%;padding:10px;font-size:16px;border:1px solid #bbb;border-radius:4px}
button{margin-top:24px;width:100%;padding:12px;font-size:16px;border:0;border-radius:4px;background:#1f6feb;color:#fff;cursor:pointer}
.error{color:#b00020;background:#fdecee;padding:10px;border-radius:4px}`;

const LAYOUT = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>{{title}}</title>
<style>{{{style}}}</style>
</head>
<body><main><h1>{{title}}</h1>
{{{body}}}
</main></body>
</html>`;

const MESSAGE = `<p>{{message}}</p>`;

// The action is relative ("reset-password", not "/reset-password"): it posts back to this page's
// path without its query string, so the token travels in the body only, also behind a path prefix.
const RESET_FORM = `{{#if error}}<p class="error" role="alert">{{error}}</p>{{/if}}
<p>Choose a new password for your account. Every session will be signed out.</p>
<form method="post" action="reset-password">
<input type="hidden" name="token" value="{{token}}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required autofocus>
<label for="confirm">The same password again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<button type="submit">Set the new password</button>
</form>`;

/**
 * The small HTML pages behind the links in mails. Every value is escaped by
 * handlebars; the only inline code is the stylesheet, allowed by its hash in
 * a Content-Security-Policy that allows nothing else (no script at all: the
 * pages work without JavaScript).
 */
export class AccountPageRenderer {
  private readonly hbs = Handlebars.create();
  private readonly layout = this.hbs.compile(LAYOUT, { strict: true });
  private readonly message = this.hbs.compile(MESSAGE, { strict: true });
  private readonly resetForm = this.hbs.compile(RESET_FORM, { strict: true });

  readonly contentSecurityPolicy = [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

  messagePage(title: string, message: string): string {
    return this.layout({ title, style: STYLE, body: this.message({ message }) });
  }

  resetFormPage(token: string, error: string | null): string {
    return this.layout({ title: 'Choose a new password', style: STYLE, body: this.resetForm({ token, error }) });
  }
}
