import type { MailKind, MailTemplate } from '../mail-kinds';
import { accountBannedTemplate } from './account-banned.template';
import { accountSuspendedTemplate } from './account-suspended.template';
import { emailChangeConfirmTemplate } from './email-change-confirm.template';
import { emailChangeRequestedTemplate } from './email-change-requested.template';
import { emailChangedTemplate } from './email-changed.template';
import { invoiceIssuedTemplate } from './invoice-issued.template';
import { invoiceOverdueTemplate } from './invoice-overdue.template';
import { keyInvalidTemplate } from './key-invalid.template';
import { passwordResetTemplate } from './password-reset.template';
import { planChangedTemplate } from './plan-changed.template';
import { riskLiftedTemplate } from './risk-lifted.template';
import { riskLockedTemplate } from './risk-locked.template';
import { signInNewIpTemplate } from './sign-in-new-ip.template';
import { verifyEmailTemplate } from './verify-email.template';

/** One template per kind; the record type makes a kind without a template a compile error. */
export const MAIL_TEMPLATES: Record<MailKind, MailTemplate> = {
  'verify-email': verifyEmailTemplate,
  'password-reset': passwordResetTemplate,
  'email-change-confirm': emailChangeConfirmTemplate,
  'email-change-requested': emailChangeRequestedTemplate,
  'email-changed': emailChangedTemplate,
  'key-invalid': keyInvalidTemplate,
  'risk-locked': riskLockedTemplate,
  'risk-lifted': riskLiftedTemplate,
  'invoice-issued': invoiceIssuedTemplate,
  'invoice-overdue': invoiceOverdueTemplate,
  'plan-changed': planChangedTemplate,
  'account-suspended': accountSuspendedTemplate,
  'account-banned': accountBannedTemplate,
  'sign-in-new-ip': signInNewIpTemplate,
};
