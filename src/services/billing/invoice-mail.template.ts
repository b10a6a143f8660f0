import Decimal from 'decimal.js';
import { isoDay, monthName } from './billing-calendar';
import type { InvoiceView } from './billing-views';
import { escapeHtml } from './html-escape';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const usd = (amount: string) => new Decimal(amount).toFixed(2);

/** The "invoice issued" mail: every line with its calculation, in plain text and in HTML. */
export function invoiceIssuedMail(invoice: InvoiceView, publicUrl: string): RenderedMail {
  const period = monthName(invoice.periodStart);
  const due = isoDay(invoice.dueAt);
  const subject = `Your invoice for ${period}: ${usd(invoice.total)} USD, due ${due}`;
  const text = [
    `Your invoice for ${period} (${invoice.plan} plan at the month's end).`,
    '',
    ...invoice.lines.flatMap((l) => [`${l.description}: ${usd(l.amount)} USD`, `  ${l.calculation}`]),
    '',
    `Total: ${usd(invoice.total)} USD (subscription ${usd(invoice.subscriptionFee)}, profit share ${usd(invoice.profitShareFee)}; USDT counted as USD).`,
    `Due: ${due}. Until it is paid after that date, no new positions are opened on your account; open positions still close as signalled.`,
    '',
    `Invoice ${invoice.id} — see it with your other invoices at ${publicUrl}.`,
  ].join('\n');
  const rows = invoice.lines
    .map((l) => `<tr><td>${escapeHtml(l.description)}<br><small>${escapeHtml(l.calculation)}</small></td><td align="right">${usd(l.amount)}</td></tr>`)
    .join('');
  const html =
    `<p>Your invoice for <strong>${escapeHtml(period)}</strong> (${escapeHtml(invoice.plan)} plan at the month's end).</p>` +
    `<table cellpadding="6" border="1" style="border-collapse:collapse"><tr><th align="left">Line</th><th align="right">USD</th></tr>${rows}` +
    `<tr><td><strong>Total</strong></td><td align="right"><strong>${usd(invoice.total)}</strong></td></tr></table>` +
    `<p>Due <strong>${escapeHtml(due)}</strong>. Until it is paid after that date, no new positions are opened on your account; open positions still close as signalled.</p>` +
    `<p><small>Invoice ${escapeHtml(invoice.id)}. USDT is counted as USD.</small></p>`;
  return { subject, text, html };
}
