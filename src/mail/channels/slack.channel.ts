import { summary, type AlertChannel, type ChannelMessage, type ChannelRequest } from './alert-channel.js';

/** Escapes what Slack's mrkdwn reads as markup. */
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A Slack incoming webhook (`https://hooks.slack.com/services/…`, itself the secret). */
export class SlackChannel implements AlertChannel {
  readonly kind = 'slack';
  readonly settings = [{ name: 'url', required: true, url: true, secret: true }];

  request(message: ChannelMessage, settings: Readonly<Record<string, string>>): ChannelRequest {
    const { title, lines } = summary(message);
    const heading = message.link ? `*<${message.link}|${escape(title)}>*` : `*${escape(title)}*`;
    const text = [heading, ...lines.map(escape)].join('\n');
    return {
      url: settings.url,
      headers: { 'content-type': 'application/json', 'idempotency-key': message.id },
      body: JSON.stringify({
        text,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
      }),
    };
  }
}
