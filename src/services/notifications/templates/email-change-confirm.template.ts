import type { MailTemplate } from '../mail-kinds';

export const emailChangeConfirmTemplate: MailTemplate = {
  subject: 'Confirm your new email address',
  text: `Someone asked to use this address to sign in to their account. If it was you, confirm it:

{{link}}

Your account switches to this address only once you open the link. It expires in {{expiresInHours}} hours.
If it was not you, ignore this mail: nothing changes.`,
  html: `<p>Someone asked to use this address to sign in to their account. If it was you, confirm it:</p>
<p><a href="{{link}}">Confirm this email address</a></p>
<p>Your account switches to this address only once you open the link. It expires in {{expiresInHours}} hours.</p>
<p>If it was not you, ignore this mail: nothing changes.</p>`,
};
