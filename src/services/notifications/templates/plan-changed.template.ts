import type { MailTemplate } from '../mail-kinds';

export const planChangedTemplate: MailTemplate = {
  subject: 'Your plan is now {{to}}',
  text: `Your subscription changed from {{from}} to {{to}}. The new plan's position cap and profit share apply from now on.

If you did not make this change, change your password and contact support.`,
  html: `<p>Your subscription changed from <strong>{{from}}</strong> to <strong>{{to}}</strong>. The new plan's position cap and profit share apply from now on.</p>
<p>If you did not make this change, change your password and contact support.</p>`,
};
