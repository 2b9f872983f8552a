import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Counter, Histogram } from 'prom-client';
import { ChatterRepository, type MessageRow } from './chatter/chatter.repository.js';
import { renderTranslatable } from './chatter/translatable.js';
import type { ScheduledTask } from '../scheduler/scheduled-task.js';
import { I18nService } from '../i18n/i18n.service.js';
import { MetricsService } from '../monitoring/metrics.service.js';
import { Clock } from '../scheduler/clock.js';
import { ChannelDeliveryService, type Delivery } from './channels/channel-delivery.service.js';
import { ChannelRegistry } from './channels/channel-registry.js';
import { MailerRepository, type OutgoingMail } from './email/mailer.repository.js';
import {
  NotificationsRepository,
  type ClaimedNotification,
} from './notifications/notifications.repository.js';
import { TemplateRenderer } from './email/template-renderer.js';
import { notificationSubject, notificationTracking } from './notifications/notification-text.js';
import { RECORD_PAGES, recordLink } from './notifications/record-link.js';
import { BASE_URL } from './channels/channel-settings.js';
import { SettingsService } from '../settings/settings.service.js';
import { ThreadRegistry } from './chatter/thread-registry.js';
import { MessageActions, type MessageAction } from './notifications/message-actions.js';

/** Tries per notification before it is marked failed. */
export const MAX_ATTEMPTS = 8;
/** First retry delay; doubled after each failure. */
export const BACKOFF_SECONDS = 30;
/** Longest one send may take (nodemailer's own timeouts are per step); past it the try counts as failed. */
const SEND_TIMEOUT_SECONDS = 60;
/**
 * How long a claim on a row lasts (on the database's clock). Every send is cut off well before (e-mail at
 * SEND_TIMEOUT_SECONDS, channels at 60 s at most), so only a dead worker's claim lapses; then another takes the row.
 */
export const CLAIM_LEASE_SECONDS = 2 * SEND_TIMEOUT_SECONDS;
/** Deliveries one dispatcher runs side by side; each holds a database connection only to claim and to record. */
export const DISPATCH_WORKERS = 4;

export interface DispatchResult {
  sent: number;
  retried: number;
  failed: number;
}

type Outcome = keyof DispatchResult;
/** What one delivery came to: counted, or `lost` (its claim lapsed and was taken over), or not recorded yet. */
type Attempt = Outcome | 'lost' | 'unrecorded';
/** Writes a delivery's outcome in its own transaction; `lost` when the worker's claim no longer stands. */
type Recorder = () => Promise<Outcome | 'lost'>;

/**
 * Delivers pending notifications: e-mail, and every alert channel (webhook, Slack…) with its own sender and retry
 * policy. Claim-then-release: a delivery claims one due row in a short transaction (`claimed_by` this
 * dispatcher, `claimed_until` the database's now() + CLAIM_LEASE_SECONDS; any number of dispatchers share the work)
 * and reads what the send needs; it then sends with no database connection held — however slow the SMTP server,
 * the pool stays free for check-ins — and records the outcome in a second short transaction, if its claim still
 * stands. A claim whose lease passed (a worker that died) is taken over; a dispatcher whose recording failed (the
 * database went away) records it on its next run and releases its other claims, so that a database restart
 * delays nothing by a lease. At least once: a row is marked sent only after the SMTP server accepted it, and its
 * Message-ID is the same on every attempt.
 */
@Injectable()
export class NotificationDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationDispatcher.name);
  private readonly outcomes: Counter<'result'>;
  private readonly latency: Histogram;
  private stopping = false;
  /** Names this dispatcher's claims: unique per process start, even where every container is pid 1. */
  readonly worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  /** Rows this dispatcher is delivering now. */
  private readonly inFlight = new Set<string>();
  /** Outcomes whose recording failed (the database was away), by row: recorded at the next run. */
  private readonly unrecorded = new Map<string, { record: Recorder; claimed: ClaimedNotification }>();
  /** Claim transactions under way. */
  private claiming = 0;
  /** A claim transaction failed: this dispatcher may hold a claim it does not know of. */
  private strayClaims = false;

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
    private readonly settings: SettingsService,
    private readonly actions: MessageActions,
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
    if (!(await this.settleOwnClaims(result))) return result;
    let budget = maxRows;
    const worker = async () => {
      while (budget > 0 && !this.stopping) {
        budget--;
        const attempt = await this.deliverNext(channels);
        if (attempt === 'idle' || attempt === 'unavailable') return;
        if (attempt !== 'lost' && attempt !== 'unrecorded') this.count(attempt, result);
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

  /** Whether e-mail can be sent (SMTP_URL is set). */
  get emailEnabled(): boolean {
    return this.mailer.enabled;
  }

  /**
   * Sends one e-mail to an address that is no partner's (an addon's own outbox, e.g. status page subscribers),
   * cut off after SEND_TIMEOUT_SECONDS. The caller keeps its own retry state.
   */
  sendEmail(mail: OutgoingMail): Promise<void> {
    return withTimeout(
      this.mailer.send(mail),
      SEND_TIMEOUT_SECONDS * 1000,
      `The SMTP server did not accept the e-mail within ${SEND_TIMEOUT_SECONDS} s`,
    );
  }

  private count(outcome: Outcome, result: DispatchResult): void {
    result[outcome]++;
    this.outcomes.inc({ result: outcome });
  }

  /**
   * Records the outcomes a database outage left unrecorded, then releases this dispatcher's other claims (made by
   * a transaction whose commit it never heard of): their rows are due again at once, not after the lease. False
   * when the database cannot be reached.
   */
  private async settleOwnClaims(result: DispatchResult): Promise<boolean> {
    try {
      for (const [id, pending] of [...this.unrecorded]) {
        // Out of the map while it is written, so that an overlapping run does not write it too.
        this.unrecorded.delete(id);
        try {
          const outcome = await pending.record();
          if (outcome === 'lost')
            this.logger.warn(`Notification ${id}: another dispatcher took it over meanwhile`);
          else this.count(outcome, result);
          if (outcome === 'sent') this.observeLatency(pending.claimed);
        } catch (failure) {
          this.unrecorded.set(id, pending);
          throw failure;
        }
      }
      // Only once no claim of this dispatcher is being made: a claim that just committed is not in flight yet.
      if (this.strayClaims && this.claiming === 0) {
        this.strayClaims = false;
        const keep = [...this.inFlight, ...this.unrecorded.keys()];
        const released = await this.repo.releaseClaims(this.worker, keep);
        if (released) this.logger.warn(`Released ${released} notification claims left by a database error`);
      }
      return true;
    } catch (failure) {
      this.logger.warn(
        `Cannot reach the database to deliver notifications, the next run retries: ${String(failure)}`,
      );
      return false;
    }
  }

  /** Claims one due row (one short transaction), delivers it with no connection held, records the outcome. */
  private async deliverNext(channels: string[]): Promise<Attempt | 'idle' | 'unavailable'> {
    let claimed: ClaimedNotification | undefined;
    let delivery: Delivery | undefined;
    this.claiming++;
    try {
      await this.repo.transaction(async (manager) => {
        claimed = await this.repo.claimOne(
          this.clock.now(),
          this.worker,
          CLAIM_LEASE_SECONDS,
          channels,
          manager,
        );
        if (claimed)
          delivery =
            claimed.channel === 'email'
              ? await this.prepareEmail(claimed, manager)
              : await this.channels.prepare(claimed, manager);
      });
    } catch (failure) {
      // The claim's transaction failed: it rolled back, or its commit went through unheard of. That claim, if any,
      // is released by the next run rather than left until its lease passes.
      this.strayClaims = true;
      const error = failure instanceof Error ? failure.message : String(failure);
      this.logger.warn(`Cannot claim due notifications, the next run retries: ${error}`);
      return 'unavailable';
    } finally {
      this.claiming--;
    }
    if (!claimed || !delivery) return 'idle';
    if ('done' in delivery) return delivery.done;
    const { id } = claimed;
    this.inFlight.add(id);
    try {
      const write = await delivery.send();
      const record: Recorder = () =>
        this.repo.transaction(async (manager) =>
          (await this.repo.holdsClaim(id, this.worker, manager)) ? write(manager) : 'lost',
        );
      let outcome: Outcome | 'lost';
      try {
        outcome = await record();
      } catch (failure) {
        // The outcome is known but the database is away: kept, and recorded by the next run (the claim stays).
        this.unrecorded.set(id, { record, claimed });
        this.logger.warn(`Notification ${id}: its outcome could not be recorded yet (${String(failure)})`);
        return 'unrecorded';
      }
      if (outcome === 'lost')
        this.logger.warn(
          `Notification ${id}: its claim lapsed during the send and another dispatcher took it`,
        );
      if (outcome === 'sent') this.observeLatency(claimed);
      return outcome;
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** In the claim's transaction: the recipient and the message, then the send to run once it committed. */
  private async prepareEmail(notification: ClaimedNotification, manager: EntityManager): Promise<Delivery> {
    const [recipient, message] = await Promise.all([
      this.repo.recipient(notification.partnerId, manager),
      this.messages.findMessage(notification.messageId, manager),
    ]);
    if (!recipient?.email || !message) {
      await this.repo.markFailed(notification.id, 'The recipient has no e-mail address', manager);
      return { done: 'failed' };
    }
    const address = recipient.email;
    const baseUrl = await this.settings.get(BASE_URL, manager);
    const actions = await this.actions.for(message, notification.partnerId, baseUrl, manager);
    return {
      send: async () => {
        let error: string | undefined;
        try {
          const mail = this.render(message, recipient.name, recipient.lang, baseUrl, actions);
          await withTimeout(
            this.mailer.send({
              to: { name: recipient.name, address },
              messageId: notification.emailMessageId!,
              ...mail,
            }),
            SEND_TIMEOUT_SECONDS * 1000,
            `The SMTP server did not accept the e-mail within ${SEND_TIMEOUT_SECONDS} s`,
          );
        } catch (failure) {
          error = failure instanceof Error ? failure.message : String(failure);
        }
        return (manager) => this.recordEmail(notification, address, error, manager);
      },
    };
  }

  /** In the recording transaction: sent, or retried later, or failed after MAX_ATTEMPTS. */
  private async recordEmail(
    notification: ClaimedNotification,
    address: string,
    error: string | undefined,
    manager: EntityManager,
  ): Promise<Outcome> {
    if (error === undefined) {
      await this.repo.markSent(notification.id, address, this.clock.now(), manager);
      return 'sent';
    }
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

  private observeLatency(notification: ClaimedNotification): void {
    const now = this.clock.now();
    this.latency.observe(Math.max(0, (now.getTime() - new Date(notification.createdAt).getTime()) / 1000));
  }

  /** Exponential backoff after the `attempts`-th try. */
  private nextTry(attempts: number): Date {
    return new Date(this.clock.now().getTime() + BACKOFF_SECONDS * 2 ** (Math.max(1, attempts) - 1) * 1000);
  }

  /** The e-mail in the recipient's language. */
  private render(
    message: MessageRow,
    recipientName: string,
    lang: string,
    baseUrl: string | undefined,
    actions: MessageAction[] = [],
  ) {
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
      // Links for this recipient (an incident's "Acknowledge").
      actions: actions.map((a) => ({ label: renderTranslatable(this.i18n, a.label, lang), url: a.url })),
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
