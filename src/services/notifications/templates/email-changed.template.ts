import type { MailTemplate } from '../mail-kinds';

export const emailChangedTemplate: MailTemplate = {
  subject: 'Your sign-in email was changed',
  text: `The email address of your account is now {{newEmail}}. This address no longer signs in, and every other session was signed out.

If this was not you, contact support at once.`,
  html: `<p>The email address of your account is now <strong>{{newEmail}}</strong>. This address no longer signs in, and every other session was signed out.</p>
<p>If this was not you, contact support at once.</p>`,
};
