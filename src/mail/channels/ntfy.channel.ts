import { summary, type AlertChannel, type ChannelMessage, type ChannelRequest } from './alert-channel.js';

/** ntfy (ntfy.sh or a self-hosted server): JSON published to the server's root, with an optional access token. */
export class NtfyChannel implements AlertChannel {
  readonly kind = 'ntfy';
  readonly settings = [
    { name: 'server', required: false, url: true, default: 'https://ntfy.sh' },
    { name: 'topic', required: true, pattern: /^[-_A-Za-z0-9]{1,64}$/ },
    { name: 'token', required: false, secret: true },
  ];

  request(message: ChannelMessage, settings: Readonly<Record<string, string>>): ChannelRequest {
    const { title, lines } = summary(message);
    return {
      url: settings.server.replace(/(?<!\/)\/+$/, '') + '/',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': message.id,
        ...(settings.token ? { authorization: `Bearer ${settings.token}` } : {}),
      },
      body: JSON.stringify({
        topic: settings.topic,
        title,
        message: lines.join('\n') || title,
        tags: ['vigil'],
        ...(message.link ? { click: message.link } : {}),
      }),
    };
  }
}
