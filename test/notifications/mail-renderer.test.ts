import type { MailKind, MailParams } from '../../src/services/notifications/mail-kinds';
import { MailRenderer } from '../../src/services/notifications/mail-renderer';
import { MAIL_TEMPLATES } from '../../src/services/notifications/templates';

const HOSTILE = `<script>alert("x")</script> & 'quotes'`;

/** One sample per kind; a hostile string in every free-text value. */
const SAMPLES: { [K in MailKind]: MailParams[K] } = {
  'verify-email': { link: 'https://app.example.com/verify-email?token=abc', token: 'abc', trialDays: 7, expiresInHours: 24 },
  'password-reset': { link: 'https://app.example.com/reset-password?token=abc', expiresInMinutes: 60 },
  'email-change-confirm': { link: 'https://app.example.com/verify-email?token=abc', expiresInHours: 24 },
  'email-change-requested': { newEmail: `new${HOSTILE}@example.com` },
  'email-changed': { newEmail: `new${HOSTILE}@example.com` },
  'key-invalid': { maskedKey: 'vmPU…A0Qz', reason: HOSTILE, detectedBy: 'During today\'s daily check,' },
  'risk-locked': { reason: HOSTILE },
  'risk-lifted': { reason: HOSTILE },
  'invoice-issued': {
    period: 'November 2026', plan: 'PRO', total: '129.50', subscriptionFee: '99.00', profitShareFee: '30.50', dueAt: '2026-12-15',
    invoiceId: '6f1c0a4e-2b7d-4c1e-9a3f-1d2e3f4a5b6c',
    lines: [{ description: `PRO plan ${HOSTILE}`, amount: '99.00', calculation: '99 × 30/30 days' }, { description: 'Profit share', amount: '30.50', calculation: '30 % of 101.67 = 30.501' }],
  },
  'invoice-overdue': { period: 'November 2026', total: '129.50', dueAt: '2026-12-15', invoiceId: '6f1c0a4e-2b7d-4c1e-9a3f-1d2e3f4a5b6c' },
  'plan-changed': { from: 'PRO', to: 'BASIC', monthlyFee: '29.00', profitSharePct: '20', capPct: '15', lowered: { from: '0.3', to: '0.15' } },
  'account-suspended': {},
  'account-banned': {},
  'sign-in-new-ip': { ip: '203.0.113.9', at: '2026-12-01 10:00 UTC' },
};

describe('mail templates', () => {
  const renderer = new MailRenderer();

  it('has a sample here for every kind there is', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(MAIL_TEMPLATES).sort());
  });

  it.each(Object.keys(SAMPLES) as MailKind[])('renders %s with a one-line subject, a text part and an HTML part', (kind) => {
    const mail = renderer.render(kind, SAMPLES[kind] as never);
    expect(mail.subject.length).toBeGreaterThan(5);
    expect(mail.subject).not.toMatch(/[\r\n]/);
    expect(mail.text.trim().length).toBeGreaterThan(20);
    expect(mail.html).toMatch(/^<!doctype html>/);
    expect(mail.html).toContain(`<title>${mail.subject.replace(/&/g, '&amp;').replace(/'/g, '&#x27;')}</title>`);
    // The text part is not HTML: nothing in it is entity-escaped.
    expect(mail.text).not.toMatch(/&(lt|gt|amp|quot|#x27|#x3D);/);
  });

  it('escapes every value in the HTML part and leaves the text part as written', () => {
    for (const kind of ['risk-locked', 'key-invalid', 'email-changed'] as const) {
      const mail = renderer.render(kind, SAMPLES[kind] as never);
      expect(mail.html).not.toContain('<script>');
      expect(mail.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quotes&#x27;');
      expect(mail.text).toContain(HOSTILE);
    }
  });

  it('keeps the parts existing clients rely on: the link, the raw token for the mutation', () => {
    const mail = renderer.render('verify-email', SAMPLES['verify-email']);
    expect(mail.text).toContain('https://app.example.com/verify-email?token=abc');
    expect(mail.text).toMatch(/verifyEmail mutation with this token:\s+abc/);
    // Handlebars escapes "=" in attribute values as &#x3D;, which every HTML parser reads back as "=".
    expect(mail.html).toContain('href="https://app.example.com/verify-email?token&#x3D;abc"');
  });

  it('refuses to render with a value missing instead of sending a mail with a hole in it', () => {
    expect(() => renderer.render('risk-locked', {} as never)).toThrow(/reason/);
  });

  it('keeps a subject on one line even when a value carries a line break', () => {
    const mail = renderer.render('plan-changed', { ...SAMPLES['plan-changed'], to: 'PRO\r\nBcc: victim@example.com' });
    expect(mail.subject).toBe('Your plan changed to PRO Bcc: victim@example.com');
  });
});
