import type { MailTemplate } from '../mail-kinds';

export const invoiceIssuedTemplate: MailTemplate = {
  subject: 'Your invoice for {{period}}',
  text: `Your invoice for {{period}} is ready: {{total}} USDT, due on {{dueAt}}.

Every line and how it was computed is in your account under invoices.`,
  html: `<p>Your invoice for {{period}} is ready: <strong>{{total}} USDT</strong>, due on {{dueAt}}.</p>
<p>Every line and how it was computed is in your account under invoices.</p>`,
};
