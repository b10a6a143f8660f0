import type { MailTemplate } from '../mail-kinds';

export const invoiceOverdueTemplate: MailTemplate = {
  subject: 'Your invoice for {{period}} is overdue',
  text: `Your invoice for {{period}} ({{total}} USD) was due on {{dueAt}} and is not paid yet.

Until it is paid, no new positions are opened on your account; open positions still close as signalled.

Invoice {{invoiceId}}.`,
  html: `<p>Your invoice for {{period}} (<strong>{{total}} USD</strong>) was due on {{dueAt}} and is not paid yet.</p>
<p>Until it is paid, no new positions are opened on your account; open positions still close as signalled.</p>
<p><small>Invoice {{invoiceId}}.</small></p>`,
};
