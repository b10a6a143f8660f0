import type { MailTemplate } from '../mail-kinds';

export const riskLiftedTemplate: MailTemplate = {
  subject: 'Trading resumed on your account',
  text: `The risk lock on your account was lifted:

{{reason}}

New positions can be opened again.`,
  html: `<p>The risk lock on your account was lifted:</p>
<blockquote>{{reason}}</blockquote>
<p>New positions can be opened again.</p>`,
};
