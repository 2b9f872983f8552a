import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ChatterRepository, type MessageRow } from '../chatter/chatter.repository.js';
import { ChatterService } from '../chatter/chatter.service.js';
import { renderTranslatable } from '../chatter/translatable.js';
import { systemContext } from '../../common/request-context.js';
import { I18nService } from '../../i18n/i18n.service.js';
import { Clock } from '../../scheduler/clock.js';
import { SettingsService } from '../../settings/settings.service.js';
import { ALLOW_PRIVATE_NETWORKS, BASE_URL } from './channel-settings.js';
import { notificationSubject, notificationTracking } from '../notifications/notification-text.js';
import { BASE_URL_SETTING, RECORD_PAGES, recordLink } from '../notifications/record-link.js';
import { ThreadRegistry } from '../chatter/thread-registry.js';
import {
  NotificationsRepository,
  type ClaimedNotification,
} from '../notifications/notifications.repository.js';
import type { AlertChannel, ChannelMessage, RetryPolicy } from './alert-channel.js';
import { AlertChannelsRepository } from './alert-channels.repository.js';
import { AddressRefusedError, ChannelHttpRepository } from './channel-http.repository.js';
import { ChannelRegistry } from './channel-registry.js';
import { MessageActions, type MessageAction } from '../notifications/message-actions.js';

/** Default retry policy of a channel; a channel class may change any part of it. */
export const CHANNEL_RETRY: RetryPolicy = { maxAttempts: 8, backoffSeconds: 30, timeoutSeconds: 15 };
/** Notifications in a row that a channel could not deliver before it is disabled and its owner told. */
export const CHANNEL_FAILURE_LIMIT = 3;
/** A `Retry-After` longer than this is cut down to it. */
const MAX_RETRY_AFTER_SECONDS = 6 * 3600;
/** Setting keys (declared in ./channel-settings.ts). */
export const ALLOW_PRIVATE_SETTING = ALLOW_PRIVATE_NETWORKS.key;
export { BASE_URL_SETTING };

export type SendResult =
  | { ok: true; status: number }
  | {
      ok: false;
      retryable: boolean;
      /** What went wrong, without anything the receiver wrote (`HTTP 400`, a connection error). */
      error: string;
      /** What the receiver answered, when it said why (its body, or Pushover's `errors`). */
      answer?: string;
      status?: number;
      retryAfterSeconds?: number;
    };

/** The error as the owner reads it on the message: with the receiver's own words when it gave some. */
export function failureText(result: { error: string; answer?: string }): string {
  return result.answer ? `${result.error}: ${result.answer}` : result.error;
}

export type ChannelOutcome = 'sent' | 'retried' | 'failed';

/**
 * A claimed delivery as its claim's transaction leaves it: either already settled there (`done`: nothing to send),
 * or a `send` to run once that transaction committed — network I/O with no database connection held — which
 * gives back what to record in a second short transaction.
 */
export type Delivery =
  { done: ChannelOutcome } | { send(): Promise<(manager: EntityManager) => Promise<ChannelOutcome>> };

/**
 * Delivers claimed notifications of alert channels for the dispatcher, in three steps: reads what the send needs
 * in the claim's transaction, sends with no database connection held (with the channel's retry policy: 429, 5xx,
 * timeouts and connection errors retried with backoff or the receiver's `Retry-After`; other answers fail at
 * once), and records the outcome in a second transaction — where a channel that could not deliver
 * CHANNEL_FAILURE_LIMIT notifications in a row is disabled and its owner told by e-mail and inbox.
 */
@Injectable()
export class ChannelDeliveryService {
  private readonly logger = new Logger(ChannelDeliveryService.name);

  constructor(
    private readonly notifications: NotificationsRepository,
    private readonly messages: ChatterRepository,
    private readonly channels: AlertChannelsRepository,
    private readonly http: ChannelHttpRepository,
    private readonly registry: ChannelRegistry,
    private readonly chatter: ChatterService,
    private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    private readonly threads: ThreadRegistry,
    @Inject(RECORD_PAGES) private readonly recordPages: Record<string, string>,
    private readonly settings: SettingsService,
    private readonly actions: MessageActions,
  ) {}

  policy(channel: AlertChannel): RetryPolicy {
    const policy = { ...CHANNEL_RETRY, ...channel.retry };
    // A request must end well within the dispatcher's claim on the row, or another dispatcher could send it too.
    return { ...policy, timeoutSeconds: Math.min(policy.timeoutSeconds, 60) };
  }

  /** In the claim's transaction: what the send needs, or the notification failed at once (no channel to send to). */
  async prepare(notification: ClaimedNotification, manager: EntityManager): Promise<Delivery> {
    const subscription = await this.channels.find(notification.channelId!, manager);
    const channel = subscription && this.registry.find(subscription.kind);
    const [recipient, message] = await Promise.all([
      this.notifications.recipient(notification.partnerId, manager),
      this.messages.findMessage(notification.messageId, manager),
    ]);
    if (!subscription?.active || !channel || !recipient || !message) {
      await this.notifications.markFailed(notification.id, 'The channel is disabled or removed', manager);
      return { done: 'failed' };
    }
    // On the claim's own connection, one after the other.
    const baseUrl = await this.settings.get(BASE_URL, manager);
    const allowPrivate = await this.settings.get(ALLOW_PRIVATE_NETWORKS, manager);
    const actions = await this.actions.for(message, notification.partnerId, baseUrl, manager);
    const outgoing = this.toChannelMessage(notification, message, recipient.lang, baseUrl, actions);
    return {
      send: async () => {
        const sent = await this.send(channel, subscription.settings, outgoing, allowPrivate);
        return (manager) => this.record(notification, subscription, channel, sent, manager);
      },
    };
  }

  /** In the recording transaction: the outcome of one send, the channel's failure streak, its disabling. */
  private async record(
    notification: ClaimedNotification,
    subscription: { id: number; partnerId: number; name: string },
    channel: AlertChannel,
    sent: SendResult,
    manager: EntityManager,
  ): Promise<ChannelOutcome> {
    const policy = this.policy(channel);
    const result = sent.ok ? sent : { ...sent, error: failureText(sent) };
    const now = this.clock.now();
    if (result.ok) {
      await this.notifications.markSent(notification.id, null, now, manager);
      await this.channels.recordSuccess(subscription.id, manager);
      return 'sent';
    }
    if (result.retryable && notification.attempts < policy.maxAttempts) {
      const wait = result.retryAfterSeconds ?? policy.backoffSeconds * 2 ** (notification.attempts - 1);
      const next = new Date(now.getTime() + wait * 1000);
      this.logger.warn(
        `Notification ${notification.id} (${channel.kind} channel ${subscription.id}) try ${notification.attempts} failed (${result.error}); retry at ${next.toISOString()}`,
      );
      await this.notifications.markRetry(notification.id, result.error, next, manager);
      return 'retried';
    }
    this.logger.warn(
      `Notification ${notification.id} (${channel.kind} channel ${subscription.id}) failed: ${result.error}`,
    );
    await this.notifications.markFailed(notification.id, result.error, manager);
    const streak = await this.channels.recordFailure(subscription.id, result.error, manager);
    if (streak?.active && streak.failures >= CHANNEL_FAILURE_LIMIT) {
      await this.disable(subscription, channel.kind, streak.failures, result.error, manager);
    }
    return 'failed';
  }

  /** One try, no bookkeeping: the dispatcher's and the "send a test" action's. */
  async send(
    channel: AlertChannel,
    settings: Record<string, string>,
    message: ChannelMessage,
    allowPrivate: boolean,
  ): Promise<SendResult> {
    const policy = this.policy(channel);
    try {
      const request = channel.request(message, withDefaults(channel, settings), this.clock.now());
      const response = await this.http.post(request, {
        timeoutMs: policy.timeoutSeconds * 1000,
        allowPrivate,
      });
      const { status } = response;
      if (status >= 200 && status < 300) {
        const refused = channel.refusal?.(status, response.body);
        return refused
          ? { ok: false, retryable: false, status, error: `HTTP ${status}, refused`, answer: refused }
          : { ok: true, status };
      }
      const retryable = status === 429 || status >= 500 || status === 408;
      return {
        ok: false,
        retryable,
        status,
        error: `HTTP ${status}`,
        answer: response.body ? response.body.slice(0, 300) : undefined,
        retryAfterSeconds: retryable ? retryAfter(response.retryAfter, this.clock.now()) : undefined,
      };
    } catch (failure) {
      const error = failure instanceof Error ? describe(failure) : String(failure);
      return { ok: false, retryable: !(failure instanceof AddressRefusedError), error };
    }
  }

  /** The message as channels send it, in the recipient's language. */
  private toChannelMessage(
    notification: { id: string; createdAt: Date },
    message: MessageRow,
    lang: string,
    baseUrl: string | undefined,
    actions: MessageAction[] = [],
  ): ChannelMessage {
    const record = message.recordName;
    return {
      id: notification.id,
      createdAt: new Date(notification.createdAt).toISOString(),
      subject: notificationSubject(this.i18n, message, lang),
      text: renderTranslatable(this.i18n, message.body, lang),
      author: message.authorName,
      subtype: message.subtype,
      record:
        message.model !== null && message.resId !== null
          ? { model: message.model, id: message.resId, name: record }
          : null,
      link: recordLink(baseUrl, this.recordPages, message.model, message.resId),
      tracking: notificationTracking(this.i18n, message, lang, (model, field) =>
        this.threads.valueKeys(model, field),
      ),
      test: false,
      actions: actions.map((a) => ({ label: renderTranslatable(this.i18n, a.label, lang), url: a.url })),
    };
  }

  private async disable(
    subscription: { id: number; partnerId: number; name: string },
    kind: string,
    failures: number,
    error: string,
    manager: EntityManager,
  ): Promise<void> {
    // The channel's name in the owner's language (`E-mail`, `Posteingang`…); an addon's kind without one as it is.
    const kindName = `mail.channels.names.${kind}`;
    const args = {
      name: subscription.name,
      kind: this.i18n.has(kindName) ? { key: kindName } : kind,
      failures,
      error,
    };
    this.logger.warn(`Channel ${subscription.id} (${kind}) disabled after ${failures} failed notifications`);
    await this.channels.disable(
      subscription.id,
      `The channel was disabled after ${failures} failed notifications`,
      this.clock.now(),
      manager,
    );
    // In the same transaction: the owner hears of it exactly when the channel is disabled.
    await this.chatter.notify(
      systemContext(),
      [subscription.partnerId],
      {
        subject: { key: 'mail.channels.disabled_subject', args },
        body: { key: 'mail.channels.disabled_body', args },
      },
      manager,
    );
  }
}

/** Settings with the channel's defaults filled in. */
function withDefaults(channel: AlertChannel, settings: Record<string, string>): Record<string, string> {
  const filled = { ...settings };
  for (const spec of channel.settings)
    if (filled[spec.name] === undefined && spec.default !== undefined) filled[spec.name] = spec.default;
  return filled;
}

/** `Retry-After` in seconds (a number of seconds or an HTTP date), bounded; undefined when absent or unreadable. */
export function retryAfter(value: string | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim())
    ? Number(value.trim())
    : (Date.parse(value) - now.getTime()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

/** The error and its cause (`fetch failed` says little; ECONNREFUSED says what happened). */
function describe(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
}
