import type { MailTemplate } from '../mail-kinds';

export const emailChangeRequestedTemplate: MailTemplate = {
  subject: 'A change of your sign-in email was requested',
  text: `Someone signed in to your account asked to change its email address to {{newEmail}}.
Nothing changes until that address is confirmed.

If this was not you, change your password now: whoever asked knows it.`,
  html: `<p>Someone signed in to your account asked to change its email address to <strong>{{newEmail}}</strong>.
Nothing changes until that address is confirmed.</p>
<p>If this was not you, change your password now: whoever asked knows it.</p>`,
};
