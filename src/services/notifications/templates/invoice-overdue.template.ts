import type { MailTemplate } from '../mail-kinds';

export const invoiceOverdueTemplate: MailTemplate = {
  subject: 'Your invoice for {{period}} is overdue',
  text: `Your invoice for {{period}} ({{total}} USDT) was due on {{dueAt}} and is not paid yet.

Until it is paid, no new positions are opened on your account; open positions can still be closed.`,
  html: `<p>Your invoice for {{period}} (<strong>{{total}} USDT</strong>) was due on {{dueAt}} and is not paid yet.</p>
<p>Until it is paid, no new positions are opened on your account; open positions can still be closed.</p>`,
};
