import { summary, type AlertChannel, type ChannelMessage, type ChannelRequest } from './alert-channel.js';

/** Pushover's message API: an application token and a user (or group) key. */
export class PushoverChannel implements AlertChannel {
  readonly kind = 'pushover';
  readonly settings = [
    { name: 'token', required: true, secret: true, pattern: /^[A-Za-z0-9]{30}$/ },
    { name: 'user_key', required: true, secret: true, pattern: /^[A-Za-z0-9]{30}$/ },
    { name: 'api_url', required: false, url: true, default: 'https://api.pushover.net/1/messages.json' },
  ];

  request(message: ChannelMessage, settings: Readonly<Record<string, string>>): ChannelRequest {
    const { title, lines } = summary(message);
    return {
      url: settings.api_url,
      headers: { 'content-type': 'application/json', 'idempotency-key': message.id },
      body: JSON.stringify({
        token: settings.token,
        user: settings.user_key,
        // Pushover limits: 250 characters of title, 1024 of message.
        title: title.slice(0, 250),
        message: (lines.join('\n') || title).slice(0, 1024),
        timestamp: Math.floor(new Date(message.createdAt).getTime() / 1000),
        ...(message.link ? { url: message.link, url_title: 'Vigil' } : {}),
      }),
    };
  }

  /** Pushover answers `{"status": 1}` when it took the message. */
  refusal(_status: number, body: string): string | undefined {
    try {
      const parsed = JSON.parse(body) as { status?: number; errors?: string[] };
      return parsed.status === 1 ? undefined : (parsed.errors ?? ['Pushover refused the message']).join('; ');
    } catch {
      return 'Pushover answered something that is not JSON';
    }
  }
}
