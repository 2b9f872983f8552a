import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import nodemailer, { type Transporter } from 'nodemailer';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.tokens.js';

export interface OutgoingMail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  /** `<id@vigil>`: identical on every attempt. */
  messageId: string;
  /** Extra headers (`List-Unsubscribe`…). */
  headers?: Record<string, string>;
}

/** Sends e-mail through SMTP_URL; the only code that speaks SMTP. */
@Injectable()
export class MailerRepository implements OnApplicationShutdown {
  private transport?: Transporter;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  get enabled(): boolean {
    return this.config.smtpUrl !== undefined;
  }

  async send(mail: OutgoingMail): Promise<void> {
    if (!this.config.smtpUrl) throw new Error('SMTP_URL is not set');
    this.transport ??= nodemailer.createTransport({
      url: this.config.smtpUrl,
      // Fail fast: a dead server costs one retry slot, not minutes of a dispatcher's lease.
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    });
    await this.transport.sendMail({
      from: this.config.mailFrom,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      headers: { ...mail.headers, 'Auto-Submitted': 'auto-generated' },
    });
  }

  onApplicationShutdown(): void {
    this.transport?.close();
  }
}
