import Handlebars from 'handlebars';
import type { MailKind, MailParams, RenderedMail } from './mail-kinds';
import { MAIL_TEMPLATES } from './templates';

const HTML_LAYOUT = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{subject}}</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.5; color: #1a1a1a; max-width: 560px; margin: 0 auto; padding: 24px;">
{{{body}}}
<hr style="border: 0; border-top: 1px solid #ddd; margin-top: 32px;">
<p style="font-size: 12px; color: #666;">{{product}} · this mail was sent because of activity on your account.</p>
</body>
</html>`;

const TEXT_FOOTER = `\n\n-- \n{{product}} · this mail was sent because of activity on your account.\n`;

type Compiled = (context: unknown) => string;

/**
 * Renders each kind's handlebars template into a subject, a plain-text part
 * and an HTML part. HTML templates escape every value; the text part and the
 * subject are not HTML and are not escaped. `strict` makes a missing value
 * throw instead of silently printing nothing.
 */
export class MailRenderer {
  private readonly hbs = Handlebars.create();
  private readonly compiled = new Map<MailKind, { subject: Compiled; text: Compiled; html: Compiled }>();
  private readonly layout: Compiled;
  private readonly footer: Compiled;

  constructor(private readonly product = 'BTC copy-trading') {
    for (const [kind, template] of Object.entries(MAIL_TEMPLATES) as Array<[MailKind, (typeof MAIL_TEMPLATES)[MailKind]]>) {
      this.compiled.set(kind, {
        subject: this.hbs.compile(template.subject, { strict: true, noEscape: true }),
        text: this.hbs.compile(template.text, { strict: true, noEscape: true }),
        html: this.hbs.compile(template.html, { strict: true }),
      });
    }
    this.layout = this.hbs.compile(HTML_LAYOUT, { strict: true });
    this.footer = this.hbs.compile(TEXT_FOOTER, { strict: true, noEscape: true });
  }

  render<K extends MailKind>(kind: K, params: MailParams[K]): RenderedMail {
    const template = this.compiled.get(kind);
    if (!template) throw new Error(`no mail template for ${kind}`);
    // Subjects are one line: a value with a line break must not add headers or lines.
    const subject = template.subject(params).replace(/[\r\n]+/g, ' ').trim();
    const text = template.text(params) + this.footer({ product: this.product });
    const html = this.layout({ subject, body: template.html(params), product: this.product });
    return { subject, text, html };
  }
}
