import type { MailTemplate } from '../mail-kinds';

export const verifyEmailTemplate: MailTemplate = {
  subject: 'Verify your email address',
  text: `Welcome! Confirm your email address to start your {{trialDays}}-day free trial:

{{link}}

Or call the verifyEmail mutation with this token:
{{token}}

The link expires in {{expiresInHours}} hours. If you did not sign up, ignore this mail.`,
  html: `<p>Welcome! Confirm your email address to start your {{trialDays}}-day free trial.</p>
<p><a href="{{link}}">Confirm my email address</a></p>
<p>Or call the <code>verifyEmail</code> mutation with this token:<br><code>{{token}}</code></p>
<p>The link expires in {{expiresInHours}} hours. If you did not sign up, ignore this mail.</p>`,
};
