import type { MailTemplate } from '../mail-kinds';

export const signInNewIpTemplate: MailTemplate = {
  subject: 'New sign-in to your account',
  text: `Your account was signed in to from an address it had not used before: {{ip}}, at {{at}}.

If this was you, nothing needs doing. If not, change your password now: it signs out every session.`,
  html: `<p>Your account was signed in to from an address it had not used before: <strong>{{ip}}</strong>, at {{at}}.</p>
<p>If this was you, nothing needs doing. If not, change your password now: it signs out every session.</p>`,
};
