import { summary, type AlertChannel, type ChannelMessage, type ChannelRequest } from './alert-channel.js';

/** A Microsoft Teams incoming webhook (a Workflows "when a webhook request is received" URL): an Adaptive Card. */
export class TeamsChannel implements AlertChannel {
  readonly kind = 'teams';
  readonly settings = [{ name: 'url', required: true, url: true, secret: true }];

  request(message: ChannelMessage, settings: Readonly<Record<string, string>>): ChannelRequest {
    const { title, lines } = summary(message);
    return {
      url: settings.url,
      headers: { 'content-type': 'application/json', 'idempotency-key': message.id },
      body: JSON.stringify({
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true },
                ...lines.map((line) => ({ type: 'TextBlock', text: line, wrap: true })),
              ],
              actions: message.link ? [{ type: 'Action.OpenUrl', title: 'Vigil', url: message.link }] : [],
            },
          },
        ],
      }),
    };
  }
}
