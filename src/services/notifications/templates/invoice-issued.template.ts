import type { MailTemplate } from '../mail-kinds';

export const invoiceIssuedTemplate: MailTemplate = {
  subject: 'Your invoice for {{period}}: {{total}} USD, due {{dueAt}}',
  text: `Your invoice for {{period}} ({{plan}} plan at the month's end).

{{#each lines}}
{{description}}: {{amount}} USD
  {{calculation}}
{{/each}}

Total: {{total}} USD (subscription {{subscriptionFee}}, profit share {{profitShareFee}}; USDT counted as USD).
Due: {{dueAt}}. Until it is paid after that date, no new positions are opened on your account; open positions still close as signalled.

Invoice {{invoiceId}}: every line is also in your account under invoices.`,
  html: `<p>Your invoice for <strong>{{period}}</strong> ({{plan}} plan at the month's end).</p>
<table cellpadding="6" border="1" style="border-collapse: collapse;">
<tr><th align="left">Line</th><th align="right">USD</th></tr>
{{#each lines}}<tr><td>{{description}}<br><small>{{calculation}}</small></td><td align="right">{{amount}}</td></tr>
{{/each}}<tr><td><strong>Total</strong></td><td align="right"><strong>{{total}}</strong></td></tr>
</table>
<p>Due <strong>{{dueAt}}</strong>. Until it is paid after that date, no new positions are opened on your account; open positions still close as signalled.</p>
<p><small>Invoice {{invoiceId}}. USDT is counted as USD.</small></p>`,
};
