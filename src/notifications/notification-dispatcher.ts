import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Counter } from 'prom-client';
import type { MessageRow } from '../chatter/chatter.repository.js';
import { renderTranslatable } from '../chatter/translatable.js';
import type { ScheduledTask } from '../addons/manifest.js';
import { I18nService } from '../i18n/i18n.service.js';
import { MetricsService } from '../monitoring/metrics.service.js';
import { Clock } from '../scheduler/clock.js';
import { MailerRepository } from './mailer.repository.js';
import { NotificationsRepository, type ClaimedNotification } from './notifications.repository.js';
import { TemplateRenderer } from './template-renderer.js';

/** Tries per notification before it is marked failed. */
export const MAX_ATTEMPTS = 8;
/** First retry delay; doubled after each failure. */
export const BACKOFF_SECONDS = 30;
/** How long a claimed row is reserved for its sender; a sender that died releases it when the lease ends. */
export const LEASE_SECONDS = 300;

export interface DispatchResult {
  sent: number;
  retried: number;
  failed: number;
}

/**
 * Delivers pending e-mail notifications: claims due rows (`FOR UPDATE SKIP LOCKED`, so any number of
 * dispatchers share the work), renders each in its recipient's language and sends it. At least once: a row is
 * marked sent only after the SMTP server accepted it, and its Message-ID is the same on every attempt.
 */
@Injectable()
export class NotificationDispatcher {
  private readonly logger = new Logger(NotificationDispatcher.name);
  private readonly outcomes: Counter<'result'>;

  constructor(
    private readonly repo: NotificationsRepository,
    private readonly mailer: MailerRepository,
    private readonly renderer: TemplateRenderer,
    private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
    metrics: MetricsService,
  ) {
    this.outcomes = metrics.counter('vigil_notifications_total', 'E-mail notification attempts by result', [
      'result',
    ]);
    const pending = () => this.repo.countPending();
    metrics.gauge(
      'vigil_notifications_pending',
      'E-mail notifications waiting to be sent',
      [],
      async function () {
        this.set(await pending());
      },
    );
  }

  /** Sends what is due, `batchSize` rows per claim, at most `maxRows` per call; returns what happened. */
  async dispatchDue({ batchSize = 50, maxRows = 1000 } = {}): Promise<DispatchResult> {
    const result: DispatchResult = { sent: 0, retried: 0, failed: 0 };
    if (!this.mailer.enabled) return result;
    for (let claimedRows = 0; claimedRows < maxRows;) {
      const now = this.clock.now();
      const lease = new Date(now.getTime() + LEASE_SECONDS * 1000);
      const claimed = await this.repo.claimDue(now, lease, Math.min(batchSize, maxRows - claimedRows));
      claimedRows += claimed.length;
      for (const notification of claimed) {
        const outcome = await this.deliver(notification);
        result[outcome]++;
        this.outcomes.inc({ result: outcome });
      }
      if (claimed.length < batchSize) break;
    }
    return result;
  }

  private async deliver(notification: ClaimedNotification): Promise<keyof DispatchResult> {
    const [recipient, message] = await Promise.all([
      this.repo.recipient(notification.partnerId),
      this.repo.message(notification.messageId),
    ]);
    if (!recipient?.email || !message) {
      await this.repo.markFailed(notification.id, 'The recipient has no e-mail address');
      return 'failed';
    }
    try {
      const mail = this.render(message, recipient.name, recipient.lang);
      await this.mailer.send({
        to: { name: recipient.name, address: recipient.email },
        messageId: notification.emailMessageId,
        ...mail,
      });
      await this.repo.markSent(notification.id, recipient.email, this.clock.now());
      return 'sent';
    } catch (failure) {
      const error = failure instanceof Error ? failure.message : String(failure);
      if (notification.attempts >= MAX_ATTEMPTS) {
        this.logger.error(
          `Notification ${notification.id} failed after ${notification.attempts} tries: ${error}`,
        );
        await this.repo.markFailed(notification.id, error);
        return 'failed';
      }
      const delay = BACKOFF_SECONDS * 2 ** (notification.attempts - 1);
      this.logger.warn(
        `Notification ${notification.id} try ${notification.attempts} failed (${error}); retry in ${delay} s`,
      );
      await this.repo.markRetry(notification.id, error, new Date(this.clock.now().getTime() + delay * 1000));
      return 'retried';
    }
  }

  /** The e-mail in the recipient's language. */
  render(message: MessageRow, recipientName: string, lang: string) {
    const record = message.recordName;
    const subject =
      renderTranslatable(this.i18n, message.subject, lang) ??
      (record
        ? this.i18n.t('mail.email.subject_record', lang, { record })
        : this.i18n.t('mail.email.subject_default', lang));
    const context = {
      subject,
      recipient: recipientName,
      record_name: record,
      model: message.model,
      res_id: message.resId,
      followed: message.model !== null,
      author: message.authorName,
      body: renderTranslatable(this.i18n, message.body, lang),
      tracking: message.tracking.map((t) => ({
        label: this.i18n.t(t.label, lang),
        old_value: t.oldValue,
        new_value: t.newValue,
      })),
      values: message.templateValues ?? {},
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
