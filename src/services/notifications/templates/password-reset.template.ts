import type { MailTemplate } from '../mail-kinds';

export const passwordResetTemplate: MailTemplate = {
  subject: 'Reset your password',
  text: `Someone asked to reset the password of your account. To choose a new password, open:

{{link}}

The link works once and expires in {{expiresInMinutes}} minutes. Setting a new password signs out every session.
If you did not ask for this, ignore this mail: your password stays as it is.`,
  html: `<p>Someone asked to reset the password of your account.</p>
<p><a href="{{link}}">Choose a new password</a></p>
<p>The link works once and expires in {{expiresInMinutes}} minutes. Setting a new password signs out every session.</p>
<p>If you did not ask for this, ignore this mail: your password stays as it is.</p>`,
};
