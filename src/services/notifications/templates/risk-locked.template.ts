import type { MailTemplate } from '../mail-kinds';

export const riskLockedTemplate: MailTemplate = {
  subject: 'Trading paused on your account: risk limit reached',
  text: `No new positions will be opened on your account for now:

{{reason}}

Open positions can still be closed by the strategy.`,
  html: `<p>No new positions will be opened on your account for now:</p>
<blockquote>{{reason}}</blockquote>
<p>Open positions can still be closed by the strategy.</p>`,
};
