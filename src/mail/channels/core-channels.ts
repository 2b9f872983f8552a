import type { AlertChannel } from './alert-channel.js';
import { NtfyChannel } from './ntfy.channel.js';
import { PushoverChannel } from './pushover.channel.js';
import { SlackChannel } from './slack.channel.js';
import { TeamsChannel } from './teams.channel.js';
import { WebhookChannel } from './webhook.channel.js';

/** Core's channels; addons add theirs through their manifest's `channels`. */
export const CORE_CHANNELS: AlertChannel[] = [
  new WebhookChannel(),
  new SlackChannel(),
  new TeamsChannel(),
  new PushoverChannel(),
  new NtfyChannel(),
];
