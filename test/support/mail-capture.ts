import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  to: string[];
  raw: string;
  subject: string;
  /** The plain-text part, decoded. */
  text: string;
  /** The HTML part, decoded ('' when the message has none). */
  html: string;
}

/** Mail bodies travel quoted-printable ("=3D" for "=", soft line breaks): decode before matching. */
export function decodeQuotedPrintable(raw: string): string {
  const joined = raw.replace(/=\r?\n/g, '');
  // Escaped bytes are UTF-8: decode runs of them together ("=E2=80=A6" is one "…").
  return joined.replace(/(?:=[0-9A-F]{2})+/g, (run) => Buffer.from(run.replace(/=/g, ''), 'hex').toString('utf8'));
}

/** Everything a pattern may look for in one message: the raw headers and body, and both decoded parts. */
const searchable = (m: CapturedMail) => `${decodeQuotedPrintable(m.raw)}\n${m.text}\n${m.html}`;

/**
 * A real SMTP server on loopback that keeps every message (parsed with
 * mailparser, multipart included), for asserting on mail. `refuseNext(n)`
 * answers the next n messages with a temporary failure (451), as a flaky
 * mail server does.
 */
export class MailCapture {
  readonly messages: CapturedMail[] = [];
  /** Every DATA the server received, refused ones included. */
  attempts = 0;
  private refusals = 0;
  private readonly waiters: Array<() => void> = [];
  private server: SMTPServer;
  port = 0;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.attempts += 1;
          if (this.refusals > 0) {
            this.refusals -= 1;
            callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }));
            return;
          }
          const raw = Buffer.concat(chunks);
          void simpleParser(raw).then(
            (parsed) => {
              this.messages.push({
                to: session.envelope.rcptTo.map((r) => r.address),
                raw: raw.toString('utf8'),
                subject: parsed.subject ?? '',
                text: parsed.text ?? '',
                html: typeof parsed.html === 'string' ? parsed.html : '',
              });
              this.waiters.splice(0).forEach((w) => w());
              callback();
            },
            (err: Error) => callback(err),
          );
        });
      },
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** The next `n` messages are answered "451 try again later" and not kept. */
  refuseNext(n: number): void {
    this.refusals = n;
  }

  /** Messages to `to` so far, oldest first. */
  to(address: string): CapturedMail[] {
    return this.messages.filter((m) => m.to.includes(address));
  }

  /** Waits for a message to `to` matching `pattern` and returns the pattern's first group. */
  async waitFor(to: string, pattern: RegExp, timeoutMs = 10000): Promise<string> {
    const mail = await this.waitForMail(to, (m) => pattern.test(searchable(m)), timeoutMs, String(pattern));
    const match = pattern.exec(searchable(mail))!;
    return match[1] ?? match[0];
  }

  /** Waits for the newest message to `to` that satisfies `accept` (any message when left out). */
  async waitForMail(to: string, accept: (m: CapturedMail) => boolean = () => true, timeoutMs = 10000, what = 'the condition'): Promise<CapturedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = [...this.messages].reverse().find((m) => m.to.includes(to) && accept(m));
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
