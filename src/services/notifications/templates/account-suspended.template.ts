import type { MailTemplate } from '../mail-kinds';

export const accountSuspendedTemplate: MailTemplate = {
  subject: 'Your account has been suspended',
  text: `Your account has been suspended by an administrator. You have been signed out everywhere, and no new positions will be opened for you.

Open positions can still be closed by the strategy. Contact support to find out more.`,
  html: `<p>Your account has been suspended by an administrator. You have been signed out everywhere, and no new positions will be opened for you.</p>
<p>Open positions can still be closed by the strategy. Contact support to find out more.</p>`,
};
