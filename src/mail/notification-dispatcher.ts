import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Counter, Histogram } from 'prom-client';
import { ChatterRepository, type MessageRow } from './chatter/chatter.repository.js';
import { renderTranslatable } from './chatter/translatable.js';
import type { ScheduledTask } from '../scheduler/scheduled-task.js';
import { I18nService } from '../i18n/i18n.service.js';
import { MetricsService } from '../monitoring/metrics.service.js';
import { Clock } from '../scheduler/clock.js';
import { ChannelDeliveryService } from './channels/channel-delivery.service.js';
import { ChannelRegistry } from './channels/channel-registry.js';
import { MailerRepository } from './email/mailer.repository.js';
import {
  NotificationsRepository,
  type ClaimedNotification,
} from './notifications/notifications.repository.js';
import { TemplateRenderer } from './email/template-renderer.js';
import { notificationSubject, notificationTracking } from './notifications/notification-text.js';
import { BASE_URL_SETTING, RECORD_PAGES, recordLink } from './notifications/record-link.js';
import { ThreadRegistry } from './chatter/thread-registry.js';

/** Tries per notification before it is marked failed. */
export const MAX_ATTEMPTS = 8;
/** First retry delay; doubled after each failure. */
export const BACKOFF_SECONDS = 30;
/** Longest one send may take (nodemailer's own timeouts are per step); past it the try counts as failed. */
const SEND_TIMEOUT_SECONDS = 60;
/**
 * A claim is a row lock held by the sender's transaction. PostgreSQL releases it when that connection dies, and
 * ends a session that stays idle in its transaction longer than this (a sender that vanished without closing).
 */
const CLAIM_IDLE_LIMIT_SECONDS = SEND_TIMEOUT_SECONDS + 30;
/** Deliveries one dispatcher runs side by side; each holds one database connection while it sends. */
export const DISPATCH_WORKERS = 4;

export interface DispatchResult {
  sent: number;
  retried: number;
  failed: number;
}

type Outcome = keyof DispatchResult;

/**
 * Delivers pending notifications: e-mail, and every alert channel (webhook, Slack…) with its own sender and retry
 * policy. Each delivery is one transaction that claims one due row
 * (`FOR UPDATE SKIP LOCKED`, so any number of dispatchers share the work), renders it in its recipient's language,
 * sends it and records the outcome. The row lock is the claim: nobody else sends the row while it is held, however
 * slow the SMTP server is, and it is released the moment the sender's connection ends — a crash, a shutdown or a
 * database restart leaves the row due again at once, with no lease to wait for. At least once: a row is marked
 * sent only after the SMTP server accepted it, and its Message-ID is the same on every attempt.
 */
@Injectable()
export class NotificationDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationDispatcher.name);
  private readonly outcomes: Counter<'result'>;
  private readonly latency: Histogram;
  private stopping = false;

  constructor(
    private readonly repo: NotificationsRepository,
    private readonly messages: ChatterRepository,
    private readonly mailer: MailerRepository,
    private readonly renderer: TemplateRenderer,
    private readonly i18n: I18nService,
    private readonly channels: ChannelDeliveryService,
    private readonly registry: ChannelRegistry,
    @Inject(Clock) private readonly clock: Clock,
    metrics: MetricsService,
    private readonly threads: ThreadRegistry,
    @Inject(RECORD_PAGES) private readonly recordPages: Record<string, string>,
  ) {
    this.outcomes = metrics.counter('vigil_notifications_total', 'Notification attempts by result', [
      'result',
    ]);
    this.latency = metrics.histogram(
      'vigil_notification_delivery_seconds',
      "Time from a notification's creation to the SMTP server or the channel's receiver accepting it",
      [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
    );
    const pending = () => this.repo.countPending();
    metrics.gauge(
      'vigil_notifications_pending',
      'Notifications waiting to be sent (e-mail and alert channels)',
      [],
      async function () {
        this.set(await pending());
      },
    );
  }

  /**
   * Sends what is due with `workers` deliveries side by side, at most `maxRows` in this call; returns what
   * happened. Stops early when the database cannot be reached (the next tick tries again).
   */
  async dispatchDue({ maxRows = 1000, workers = DISPATCH_WORKERS } = {}): Promise<DispatchResult> {
    const result: DispatchResult = { sent: 0, retried: 0, failed: 0 };
    const channels = [...(this.mailer.enabled ? ['email'] : []), ...this.registry.kinds];
    if (!channels.length) return result;
    // Rows whose delivery met a database error in this call: retried by a later one, not in a loop here.
    const skipped: string[] = [];
    let budget = maxRows;
    const worker = async () => {
      while (budget > 0 && !this.stopping) {
        budget--;
        const outcome = await this.deliverNext(skipped, channels);
        if (outcome === 'idle' || outcome === 'unavailable') return;
        result[outcome]++;
        this.outcomes.inc({ result: outcome });
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
    return result;
  }

  /**
   * Withholds the e-mails of these messages to these partners (their inbox entries and alert channels stay). Called
   * in the transaction that posted the messages, before the dispatcher could see them, so that the e-mails are
   * never sent; returns which were withheld.
   */
  withholdEmails(
    messageIds: number[],
    partnerIds: number[],
    manager: EntityManager,
  ): Promise<{ messageId: number; partnerId: number }[]> {
    return this.repo.withholdEmails(messageIds, partnerIds, manager);
  }

  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  private async deliverNext(
    skipped: string[],
    channels: string[],
  ): Promise<Outcome | 'idle' | 'unavailable'> {
    let claimed: ClaimedNotification | undefined;
    try {
      return await this.repo.transaction(async (manager) => {
        claimed = await this.repo.claimOne(
          this.clock.now(),
          skipped,
          CLAIM_IDLE_LIMIT_SECONDS,
          channels,
          manager,
        );
        if (!claimed) return 'idle';
        const outcome = await (claimed.channel === 'email'
          ? this.deliver(claimed, manager)
          : this.channels.deliver(claimed, manager));
        if (outcome === 'sent') this.observeLatency(claimed);
        return outcome;
      });
    } catch (failure) {
      const error = failure instanceof Error ? failure.message : String(failure);
      if (!claimed) {
        this.logger.warn(`Cannot claim due notifications, the next run retries: ${error}`);
        return 'unavailable';
      }
      // The database failed during this delivery: its transaction, and with it the claim, is gone, so the row is
      // due again already. Spacing its next try out is best effort: while the database is away it cannot be
      // written, and the row is simply sent as soon as the database is back.
      skipped.push(claimed.id);
      this.logger.warn(
        `Notification ${claimed.id}: database error during its delivery (${error}); it is retried`,
      );
      await this.repo
        .markRetry(claimed.id, error, this.nextTry(claimed.attempts))
        .catch((again: unknown) =>
          this.logger.warn(`Could not space out notification ${claimed!.id}: ${String(again)}`),
        );
      return 'retried';
    }
  }

  private async deliver(notification: ClaimedNotification, manager: EntityManager): Promise<Outcome> {
    const [recipient, message] = await Promise.all([
      this.repo.recipient(notification.partnerId, manager),
      this.messages.findMessage(notification.messageId, manager),
    ]);
    if (!recipient?.email || !message) {
      await this.repo.markFailed(notification.id, 'The recipient has no e-mail address', manager);
      return 'failed';
    }
    try {
      const baseUrl = await this.repo.setting(BASE_URL_SETTING, manager);
      const mail = this.render(message, recipient.name, recipient.lang, baseUrl);
      await withTimeout(
        this.mailer.send({
          to: { name: recipient.name, address: recipient.email },
          messageId: notification.emailMessageId!,
          ...mail,
        }),
        SEND_TIMEOUT_SECONDS * 1000,
        `The SMTP server did not accept the e-mail within ${SEND_TIMEOUT_SECONDS} s`,
      );
    } catch (failure) {
      const error = failure instanceof Error ? failure.message : String(failure);
      if (notification.attempts >= MAX_ATTEMPTS) {
        this.logger.error(
          `Notification ${notification.id} failed after ${notification.attempts} tries: ${error}`,
        );
        await this.repo.markFailed(notification.id, error, manager);
        return 'failed';
      }
      const next = this.nextTry(notification.attempts);
      this.logger.warn(
        `Notification ${notification.id} try ${notification.attempts} failed (${error}); retry at ${next.toISOString()}`,
      );
      await this.repo.markRetry(notification.id, error, next, manager);
      return 'retried';
    }
    const now = this.clock.now();
    await this.repo.markSent(notification.id, recipient.email, now, manager);
    return 'sent';
  }

  private observeLatency(notification: ClaimedNotification): void {
    const now = this.clock.now();
    this.latency.observe(Math.max(0, (now.getTime() - new Date(notification.createdAt).getTime()) / 1000));
  }

  /** Exponential backoff after the `attempts`-th try. */
  private nextTry(attempts: number): Date {
    return new Date(this.clock.now().getTime() + BACKOFF_SECONDS * 2 ** (Math.max(1, attempts) - 1) * 1000);
  }

  /** The e-mail in the recipient's language. */
  private render(message: MessageRow, recipientName: string, lang: string, baseUrl: string | undefined) {
    const subject = notificationSubject(this.i18n, message, lang);
    const context = {
      subject,
      recipient: recipientName,
      record_name: message.recordName,
      model: message.model,
      res_id: message.resId,
      followed: message.model !== null,
      author: message.authorName,
      body: renderTranslatable(this.i18n, message.body, lang),
      tracking: notificationTracking(this.i18n, message, lang, (model, field) =>
        this.threads.valueKeys(model, field),
      ),
      values: message.templateValues ?? {},
      // Where to read the record; none without `web.base_url` rather than a broken link.
      link: recordLink(baseUrl, this.recordPages, message.model, message.resId),
    };
    return { subject, ...this.renderer.renderEmail(message.template ?? 'mail/message', lang, context) };
  }
}

/** Core's scheduled task: delivers due notifications every few seconds. */
@Injectable()
export class DispatchNotificationsTask implements ScheduledTask {
  constructor(private readonly dispatcher: NotificationDispatcher) {}

  async run(): Promise<void> {
    await this.dispatcher.dispatchDue();
  }
}

/** `promise`, or a rejection with `message` once `ms` have passed. */
async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
