/**
 * Every mail the platform sends, and what each needs to be written. Values
 * are plain strings and numbers: they travel as a job's JSON payload.
 */
export interface MailParams {
  'verify-email': { link: string; token: string; trialDays: number; expiresInHours: number };
  'password-reset': { link: string; expiresInMinutes: number };
  /** To the new address: the link that proves it and switches the account to it. */
  'email-change-confirm': { link: string; expiresInHours: number };
  /** To the old address, when the change is asked for. */
  'email-change-requested': { newEmail: string };
  /** To the old address, once the new one is confirmed. */
  'email-changed': { newEmail: string };
  'key-invalid': { maskedKey: string; reason: string; detectedBy: string };
  'risk-locked': { reason: string };
  'risk-lifted': { reason: string };
  /** Amounts as shown (two decimals, USD); every line with the calculation a user can check by hand. */
  'invoice-issued': {
    period: string;
    plan: string;
    total: string;
    subscriptionFee: string;
    profitShareFee: string;
    dueAt: string;
    invoiceId: string;
    lines: Array<{ description: string; amount: string; calculation: string }>;
  };
  'invoice-overdue': { period: string; total: string; dueAt: string; invoiceId: string };
  /** The new plan's terms; `lowered` when the downgrade lowered the stored position size setting. */
  'plan-changed': {
    from: string;
    to: string;
    monthlyFee: string;
    profitSharePct: string;
    capPct: string;
    lowered: { from: string; to: string } | null;
  };
  'account-suspended': Record<string, never>;
  'account-banned': Record<string, never>;
  'sign-in-new-ip': { ip: string; at: string };
}

export type MailKind = keyof MailParams;

/** One kind's template: handlebars sources for the subject, the plain-text part and the HTML part. */
export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}
