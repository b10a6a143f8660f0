import type { MailTemplate } from '../mail-kinds';

export const planChangedTemplate: MailTemplate = {
  subject: 'Your plan changed to {{to}}',
  text: `Your plan is now {{to}} (it was {{from}}).
{{to}}: {{monthlyFee}} USD a month, prorated by the days on it, {{profitSharePct}} % of each profitable day, positions up to {{capPct}} % of your equity.
The position cap applies at once; the new plan governs billing from the next UTC day on.
{{#if lowered}}
Your position size setting was lowered from {{lowered.from}} to {{lowered.to}}, the {{to}} plan's cap.
{{/if}}

If you did not make this change, change your password and contact support.`,
  html: `<p>Your plan is now <strong>{{to}}</strong> (it was {{from}}).</p>
<p>{{to}}: {{monthlyFee}} USD a month, prorated by the days on it, {{profitSharePct}} % of each profitable day, positions up to {{capPct}} % of your equity.</p>
<p>The position cap applies at once; the new plan governs billing from the next UTC day on.</p>
{{#if lowered}}<p>Your position size setting was lowered from {{lowered.from}} to {{lowered.to}}, the {{to}} plan's cap.</p>{{/if}}
<p>If you did not make this change, change your password and contact support.</p>`,
};
