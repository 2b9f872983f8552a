import { createHmac, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  Clock,
  Database,
  I18nService,
  NotificationDispatcher,
  Schedule,
  ScheduleError,
  SecretKeys,
  SettingsService,
  TemplateRenderer,
} from '../../src/index.js';
import { InstanceAlertsService } from '../dead_mans_switch_server/instance-alerts.service.js';
import { MaintenanceWindowsService } from '../dead_mans_switch_server/maintenance/maintenance-windows.service.js';
import type { ScheduledWindow } from '../dead_mans_switch_server/maintenance/maintenance-windows.repository.js';
import { TokenBuckets } from '../dead_mans_switch_server/checkin/token-buckets.js';
import { StatusPageRepository } from './status-page.repository.js';
import { TOKEN_PATTERN } from './status-page.service.js';
import {
  SubscriptionsRepository,
  type ClaimedMail,
  type MailEvent,
  type SubscriptionRow,
} from './subscriptions.repository.js';

const HOUR_MS = 3_600_000;
/** How long a confirmation link works; an unconfirmed subscription is purged after it. */
export const CONFIRM_TTL_HOURS = 48;
/** Pending (unconfirmed) subscriptions a page may have at once: a flood of sign-ups cannot mail without end. */
export const MAX_PENDING_PER_PAGE = 50;
/** Subscription requests per client address: a burst of as many, regained over an hour. */
export const SUBSCRIBE_PER_ADDRESS_PER_HOUR = 5;
/** Subscription requests per page: a burst of as many, regained over an hour. */
export const SUBSCRIBE_PER_PAGE_PER_HOUR = 20;
/** Alerts and windows read per notifier run at most (the next run reads on). */
const BATCH = 500;
/** Tries per e-mail; the first retry after BACKOFF_SECONDS, doubled after each failure. */
const MAX_ATTEMPTS = 8;
const BACKOFF_SECONDS = 30;
const LEASE_SECONDS = 120;
/** How long after its time an alert or window may still commit: read again, deduped, this long. */
const LATE_COMMIT_MS = 5 * 60_000;
/** Sent and failed e-mails are kept this long (the outbox's uniqueness spans it), then purged. */
const MAIL_RETENTION_MS = 30 * 24 * HOUR_MS;
/** A plain address: something@domain, no spaces nor angle brackets, at most 254 characters. */
const EMAIL = /^[^\s@<>()",;:]{1,64}@[^\s@<>()",;:]+\.[^\s@<>()",;:]{2,}$/;

export type SubscribeOutcome = 'accepted' | 'invalid' | 'rate_limited' | 'unavailable';
type LinkKind = 'c' | 'u';

/**
 * E-mail subscriptions to status pages: double opt-in (a signed, expiring confirmation link), one-click
 * unsubscribe (RFC 8058), and the notifier that turns the server's down/up alerts and new maintenance windows into
 * e-mails to the confirmed subscribers, exactly once across replicas, through an outbox of its own.
 */
@Injectable()
export class SubscriptionsService {
  private readonly logger = new Logger(SubscriptionsService.name);
  private readonly key: Buffer;
  private readonly perAddress = new TokenBuckets(
    SUBSCRIBE_PER_ADDRESS_PER_HOUR,
    SUBSCRIBE_PER_ADDRESS_PER_HOUR / 60,
  );
  private readonly perPage = new TokenBuckets(SUBSCRIBE_PER_PAGE_PER_HOUR, SUBSCRIBE_PER_PAGE_PER_HOUR / 60);

  constructor(
    @Inject(SubscriptionsRepository) private readonly subscriptions: SubscriptionsRepository,
    @Inject(StatusPageRepository) private readonly pages: StatusPageRepository,
    @Inject(Database) private readonly database: Database,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(NotificationDispatcher) private readonly mailer: NotificationDispatcher,
    @Inject(TemplateRenderer) private readonly renderer: TemplateRenderer,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(InstanceAlertsService) private readonly alerts: InstanceAlertsService,
    @Inject(MaintenanceWindowsService) private readonly windows: MaintenanceWindowsService,
    @Inject(SecretKeys) keys: SecretKeys,
  ) {
    this.key = keys.key('status-page-links');
  }

  /** Whether pages offer subscriptions: e-mail can be sent and links can be made (`web.base_url`). */
  async available(): Promise<boolean> {
    return this.mailer.emailEnabled && !!(await this.baseUrl());
  }

  /**
   * Asks for a subscription: the same outcome whether the address is new, pending or already subscribed, so
   * the form tells nobody who subscribes. A new or pending one is (re)sent the confirmation link; a confirmed one
   * gets nothing.
   */
  async subscribe(
    token: string,
    rawEmail: unknown,
    lang: string | null,
    client: string,
  ): Promise<SubscribeOutcome> {
    if (!TOKEN_PATTERN.test(token)) return 'unavailable';
    const page = await this.pages.byToken(token);
    if (!page || !(await this.available())) return 'unavailable';
    const email = typeof rawEmail === 'string' ? rawEmail.trim().toLowerCase() : '';
    if (email.length > 254 || !EMAIL.test(email)) return 'invalid';
    const now = this.clock.now();
    if (this.perAddress.take(client, now) > 0 || this.perPage.take(String(page.partner_id), now) > 0)
      return 'rate_limited';
    return this.database.transaction(async (manager) => {
      const existing = await this.subscriptions.find(page.partner_id, email, manager);
      if (existing?.confirmed_at) return 'accepted';
      if (
        !existing &&
        (await this.subscriptions.pendingCount(page.partner_id, manager)) >= MAX_PENDING_PER_PAGE
      )
        return 'rate_limited';
      const id = await this.subscriptions.upsertPending(page.partner_id, email, lang, now, manager);
      if (!id) return 'accepted';
      await this.subscriptions.enqueueOne(
        id,
        { event: `confirm:${now.getTime()}`, kind: 'confirm', args: { expires: this.expiry(now) } },
        now,
        manager,
      );
      return 'accepted';
    });
  }

  /** The pending subscription a confirmation link names, if the link is genuine, unexpired and unused. */
  async pendingOf(link: string): Promise<SubscriptionRow | null> {
    const id = this.verify(link, 'c');
    const row = id ? await this.subscriptions.byId(id) : null;
    return row && !row.confirmed_at ? row : null;
  }

  /** Confirms the subscription of a confirmation link; false when the link is forged, expired or used. */
  async confirm(link: string): Promise<boolean> {
    const row = await this.pendingOf(link);
    return !!row && (await this.subscriptions.confirm(row.id, this.clock.now()));
  }

  /** The subscription an unsubscribe link names, if genuine and still there. */
  async subscriptionOf(link: string): Promise<SubscriptionRow | null> {
    const id = this.verify(link, 'u');
    return id ? this.subscriptions.byId(id) : null;
  }

  /** Ends the subscription of an unsubscribe link (its queued e-mails go with it); false for a bad link. */
  async unsubscribe(link: string): Promise<boolean> {
    const id = this.verify(link, 'u');
    return !!id && (await this.subscriptions.delete(id));
  }

  // Managers.

  list(partnerId: number) {
    return this.subscriptions.list(partnerId);
  }

  remove(partnerId: number, id: string): Promise<boolean> {
    return /^\d{1,18}$/.test(id) ? this.subscriptions.delete(id, partnerId) : Promise.resolve(false);
  }

  // The notifier.

  /** Purges expired pending subscriptions and old e-mails, queues new events, sends what is due. */
  async run(): Promise<void> {
    const now = this.clock.now();
    await this.subscriptions.purgePending(new Date(now.getTime() - CONFIRM_TTL_HOURS * HOUR_MS));
    await this.subscriptions.purgeMails(new Date(now.getTime() - MAIL_RETENTION_MS));
    await this.enqueueEvents();
    await this.dispatch();
  }

  /**
   * Reads the alerts and windows after the stored cursor and queues their e-mails, in one transaction holding the
   * cursor row: a second replica waits for it, then finds the cursor moved past them. The first run only sets the
   * cursor (what happened before is not news).
   */
  async enqueueEvents(): Promise<number> {
    return this.database.transaction(async (manager) => {
      const cursor = await this.subscriptions.lockCursor(manager);
      if (cursor.alert_id === null || cursor.window_id === null) {
        await this.subscriptions.moveCursor(
          cursor.alert_id ?? (await this.alerts.lastAlertId(manager)),
          cursor.window_id ?? (await this.windows.lastWindowId(manager)),
          manager,
        );
        return 0;
      }
      const now = this.clock.now();
      let queued = 0;
      // Alerts and windows just before the cursor are read again if recent (one may have committed after a later
      // one was read); the outbox's uniqueness per subscriber and event drops what was already queued.
      const recent = new Date(now.getTime() - LATE_COMMIT_MS);
      const transitions = await this.alerts.transitionsAfter(cursor.alert_id, BATCH, recent, manager);
      for (const alert of transitions) {
        if (alert.partner_id === null) continue;
        queued += await this.subscriptions.enqueueForPartners(
          [alert.partner_id],
          new Date(alert.created_at),
          {
            event: `alert:${alert.id}`,
            kind: alert.kind,
            args: {
              instance_id: alert.instance_id,
              name: alert.description,
              at: new Date(alert.created_at).toISOString(),
            },
          },
          now,
          manager,
        );
      }
      const windows = await this.windows.createdAfter(cursor.window_id, BATCH, recent, manager);
      for (const window of windows) {
        const mail = maintenanceMail(window, now);
        if (!mail) continue;
        const partners = window.instanceId
          ? window.instancePartnerId === null
            ? []
            : [window.instancePartnerId]
          : window.partnerId
            ? [window.partnerId]
            : null;
        if (partners?.length === 0) continue;
        queued += await this.subscriptions.enqueueForPartners(
          partners,
          new Date(window.createdAt),
          mail,
          now,
          manager,
        );
      }
      const lastAlert = transitions.at(-1)?.id;
      const lastWindow = windows.at(-1)?.id;
      await this.subscriptions.moveCursor(
        lastAlert && BigInt(lastAlert) > BigInt(cursor.alert_id) ? lastAlert : cursor.alert_id,
        lastWindow && lastWindow > cursor.window_id ? lastWindow : cursor.window_id,
        manager,
      );
      return queued;
    });
  }

  /** Sends the due e-mails one by one: claimed in a short transaction, sent with no connection held. */
  async dispatch(maxMails = 200): Promise<{ sent: number; failed: number }> {
    const result = { sent: 0, failed: 0 };
    if (!this.mailer.emailEnabled) return result;
    const base = await this.baseUrl();
    for (let i = 0; i < maxMails; i++) {
      const mail = await this.database.transaction((manager) =>
        this.subscriptions.claim(this.clock.now(), LEASE_SECONDS, manager),
      );
      if (!mail) break;
      if (!mail.token || !base) {
        await this.subscriptions.markFailed(mail.id, 'The status page is disabled or web.base_url is unset');
        result.failed++;
        continue;
      }
      try {
        await this.mailer.sendEmail(this.render(mail, base, mail.token));
        await this.subscriptions.markSent(mail.id, this.clock.now());
        result.sent++;
      } catch (failure) {
        const error = failure instanceof Error ? failure.message : String(failure);
        if (mail.attempts >= MAX_ATTEMPTS) {
          this.logger.error(`Status page e-mail ${mail.id} failed after ${mail.attempts} tries: ${error}`);
          await this.subscriptions.markFailed(mail.id, error);
          result.failed++;
        } else {
          const next = new Date(
            this.clock.now().getTime() + BACKOFF_SECONDS * 2 ** (mail.attempts - 1) * 1000,
          );
          await this.subscriptions.markRetry(mail.id, error, next);
        }
      }
    }
    return result;
  }

  // Links.

  /** A signed link token: `<kind>.<subscription id>.<expiry, epoch seconds, 0: none>.<HMAC>`. */
  link(kind: LinkKind, subscriptionId: string, expires: number): string {
    const payload = `${kind}.${subscriptionId}.${expires}`;
    return `${payload}.${this.mac(payload)}`;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  /** The subscription id of a genuine, unexpired link of this kind; null otherwise. */
  private verify(link: string, kind: LinkKind): string | null {
    const match = /^([cu])\.(\d{1,18})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(link);
    if (!match || match[1] !== kind) return null;
    const expected = Buffer.from(this.mac(`${match[1]}.${match[2]}.${match[3]}`));
    if (!timingSafeEqual(expected, Buffer.from(match[4]))) return null;
    const expires = Number(match[3]);
    if (expires !== 0 && expires * 1000 <= this.clock.now().getTime()) return null;
    return match[2];
  }

  private expiry(now: Date): number {
    return Math.floor(now.getTime() / 1000) + CONFIRM_TTL_HOURS * 3600;
  }

  private async baseUrl(): Promise<string | undefined> {
    const url = await this.settings.getText('web.base_url');
    return url ? url.replace(/\/+$/, '') : undefined;
  }

  // Rendering.

  private render(mail: ClaimedMail, base: string, token: string) {
    const lang = this.i18n.negotiate(mail.lang ?? mail.partner_lang ?? undefined) ?? 'en';
    const at = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    const when = (value: string | number | null) => (value ? `${at.format(new Date(value))} UTC` : '');
    const name =
      (mail.args.name as string | null) ??
      this.i18n.t('status_page.instance_number', lang, { id: mail.args.instance_id ?? '' });
    const args = { customer: mail.customer, name, at: when(mail.args.at) };
    const key = `status_page.mail.${mail.kind}`;
    let intro: string;
    switch (mail.kind) {
      case 'confirm':
        intro = this.i18n.t(`${key}.intro`, lang, { customer: mail.customer, hours: CONFIRM_TTL_HOURS });
        break;
      case 'maintenance':
        intro = mail.args.from
          ? this.i18n.t(`${key}.intro`, lang, { ...args, from: when(mail.args.from), to: when(mail.args.to) })
          : this.i18n.t(`${key}.intro_recurring`, lang, args);
        break;
      case 'down':
      case 'up':
        intro = this.i18n.t(`${key}.intro`, lang, args);
    }
    const subject = this.i18n.t(`${key}.subject`, lang, args);
    const confirm =
      mail.kind === 'confirm'
        ? `${base}/status/subscriptions/confirm/${this.link('c', mail.subscription_id, Number(mail.args.expires))}`
        : undefined;
    const unsubscribe =
      mail.kind === 'confirm'
        ? undefined
        : `${base}/status/subscriptions/unsubscribe/${this.link('u', mail.subscription_id, 0)}`;
    const content = this.renderer.renderEmail('status_page/subscriber', lang, {
      subject,
      intro,
      description: mail.kind === 'maintenance' ? mail.args.description : null,
      confirm,
      page: `${base}/status/${token}`,
      unsubscribe,
      customer: mail.customer,
    });
    return {
      to: { name: '', address: mail.email },
      subject,
      ...content,
      messageId: `<status-page-${mail.id}@vigil>`,
      headers: unsubscribe
        ? { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
        : undefined,
    };
  }
}

/** The e-mail of a newly scheduled window: its one-off times, or its next occurrence; null for a malformed one. */
function maintenanceMail(window: ScheduledWindow, now: Date): MailEvent | null {
  let from: Date | null = null;
  let to: Date | null = null;
  if (window.startsAt && window.endsAt) {
    [from, to] = [new Date(window.startsAt), new Date(window.endsAt)];
    if (to <= now) return null;
  } else if (window.cron && window.timeZone && window.durationSeconds) {
    try {
      from = new Schedule(window.cron, window.timeZone).next(now);
      to = new Date(from.getTime() + window.durationSeconds * 1000);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
    }
  }
  return {
    event: `maintenance:${window.id}`,
    kind: 'maintenance',
    args: {
      description: window.description,
      from: from?.toISOString() ?? null,
      to: to?.toISOString() ?? null,
    },
  };
}
