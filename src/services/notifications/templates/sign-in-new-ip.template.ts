import type { MailTemplate } from '../mail-kinds';

export const signInNewIpTemplate: MailTemplate = {
  subject: 'New sign-in to your account',
  text: `Your account was signed in to at {{at}} from the address {{ip}}, which it had not been signed in from before.

If this was you, there is nothing to do. If not, change your password now: that ends every session. Then review your exchange key's permissions.`,
  html: `<p>Your account was signed in to at {{at}} from the address <strong>{{ip}}</strong>, which it had not been signed in from before.</p>
<p>If this was you, there is nothing to do. If not, change your password now: that ends every session. Then review your exchange key's permissions.</p>`,
};
