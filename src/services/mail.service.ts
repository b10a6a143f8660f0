import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** The HTML alternative; the message is multipart/alternative when present. */
  html?: string;
}

/**
 * Sends over SMTP when SMTP_URL is set. Without it (demo mode) the message is
 * written to DATA_DIR/mail/ and to the log, so a newcomer can follow the link.
 */
export class MailService {
  private readonly transport: Transporter | null;

  constructor(
    /** logBodies: demo mode shows the mail in the log; never in production, where bodies carry tokens. */
    private readonly options: { smtpUrl?: string; from: string; dataDir: string; logBodies?: boolean },
    private readonly logger: Logger,
  ) {
    this.transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : null;
  }

  async send(message: MailMessage): Promise<void> {
    if (this.transport) {
      await this.transport.sendMail({
        from: this.options.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        ...(message.html ? { html: message.html } : {}),
      });
      this.logger.info({ to: message.to, subject: message.subject }, 'mail sent');
      return;
    }
    const dir = path.join(this.options.dataDir, 'mail');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${message.to.replace(/[^a-z0-9@._-]/gi, '_')}.txt`);
    await writeFile(file, `From: ${this.options.from}\nTo: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`, {
      mode: 0o600,
    });
    const body = this.options.logBodies === false ? undefined : message.text;
    this.logger.info({ to: message.to, subject: message.subject, file, body }, 'mail (no SMTP_URL: written to file)');
  }

  close(): void {
    this.transport?.close();
  }
}
