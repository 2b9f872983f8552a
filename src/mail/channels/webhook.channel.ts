import { createHmac } from 'node:crypto';
import type { AlertChannel, ChannelMessage, ChannelRequest } from './alert-channel.js';

export const SIGNATURE_HEADER = 'Vigil-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the channel's secret>`, as Stripe signs. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${digest}`;
}

/** POSTs the message as JSON, signed, with the notification's id as `Idempotency-Key`. */
export class WebhookChannel implements AlertChannel {
  readonly kind = 'webhook';
  readonly settings = [
    { name: 'url', required: true, url: true },
    // At least 16 characters: the receiver verifies the signature with it.
    { name: 'secret', required: true, secret: true, pattern: /^.{16,200}$/ },
  ];

  request(message: ChannelMessage, settings: Readonly<Record<string, string>>, now: Date): ChannelRequest {
    const body = JSON.stringify({
      id: message.id,
      type: message.test ? 'test' : 'message',
      created_at: message.createdAt,
      subject: message.subject,
      body: message.text,
      author: message.author,
      subtype: message.subtype,
      record: message.record,
      link: message.link,
      tracking: message.tracking,
      actions: message.actions ?? [],
    });
    return {
      url: settings.url,
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.id,
        [SIGNATURE_HEADER.toLowerCase()]: signWebhook(
          settings.secret,
          Math.floor(now.getTime() / 1000),
          body,
        ),
      },
      body,
    };
  }
}
