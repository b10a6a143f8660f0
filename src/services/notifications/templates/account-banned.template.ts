import type { MailTemplate } from '../mail-kinds';

export const accountBannedTemplate: MailTemplate = {
  subject: 'Your account has been closed',
  text: `Your account has been closed by an administrator. You have been signed out everywhere and can no longer sign in.

Open positions can still be closed by the strategy. Contact support if you think this is a mistake.`,
  html: `<p>Your account has been closed by an administrator. You have been signed out everywhere and can no longer sign in.</p>
<p>Open positions can still be closed by the strategy. Contact support if you think this is a mistake.</p>`,
};
