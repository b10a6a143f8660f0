import type { MailTemplate } from '../mail-kinds';

export const keyInvalidTemplate: MailTemplate = {
  subject: 'Your exchange API key stopped working',
  text: `{{detectedBy}} your Binance API key {{maskedKey}} turned out to be no longer usable:

{{reason}}

Trading on your account is paused until you bind a working key.`,
  html: `<p>{{detectedBy}} your Binance API key <code>{{maskedKey}}</code> turned out to be no longer usable:</p>
<blockquote>{{reason}}</blockquote>
<p>Trading on your account is paused until you bind a working key.</p>`,
};
