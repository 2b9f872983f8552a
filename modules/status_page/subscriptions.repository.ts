import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export interface SubscriptionRow {
  id: string;
  partner_id: number;
  email: string;
  lang: string | null;
  created_at: Date;
  confirmed_at: Date | null;
}

export type MailKind = 'confirm' | 'down' | 'up' | 'maintenance';

/** A queued e-mail to enqueue: one per subscriber of the pages it concerns. */
export interface MailEvent {
  /** Unique per subscriber: `alert:<id>`, `maintenance:<id>`, `confirm:<time>`. */
  event: string;
  kind: MailKind;
  args: Record<string, string | number | null>;
}

/** A claimed e-mail with what its rendering needs. */
export interface ClaimedMail {
  id: string;
  subscription_id: string;
  kind: MailKind;
  args: Record<string, string | number | null>;
  attempts: number;
  email: string;
  /** The subscriber's language, else the customer's. */
  lang: string | null;
  partner_lang: string | null;
  customer: string;
  /** The page's current token; null when the page is disabled. */
  token: string | null;
}

/** Subscriptions, their outbox and the notifier's cursor. */
@Injectable()
export class SubscriptionsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  // Subscriptions.

  async find(partnerId: number, email: string, manager: EntityManager): Promise<SubscriptionRow | null> {
    const [row] = await manager.query<SubscriptionRow[]>(
      `SELECT id::text AS id, partner_id, email, lang, created_at, confirmed_at FROM status_page_subscription
        WHERE partner_id = $1 AND email = $2 FOR UPDATE`,
      [partnerId, email],
    );
    return row ?? null;
  }

  async byId(id: string): Promise<SubscriptionRow | null> {
    const [row] = await this.db.query<SubscriptionRow[]>(
      'SELECT id::text AS id, partner_id, email, lang, created_at, confirmed_at FROM status_page_subscription WHERE id = $1',
      [id],
    );
    return row ?? null;
  }

  /** Pending (unconfirmed) subscriptions of a customer. */
  async pendingCount(partnerId: number, manager: EntityManager): Promise<number> {
    const [row] = await manager.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM status_page_subscription WHERE partner_id = $1 AND confirmed_at IS NULL',
      [partnerId],
    );
    return row.count;
  }

  /** A pending subscription, or the pending one's request time renewed; returns its id (null: confirmed meanwhile). */
  async upsertPending(
    partnerId: number,
    email: string,
    lang: string | null,
    now: Date,
    manager: EntityManager,
  ): Promise<string | null> {
    const [row] = await manager.query<{ id: string }[]>(
      `INSERT INTO status_page_subscription (partner_id, email, lang, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (partner_id, email) DO UPDATE SET created_at = excluded.created_at, lang = excluded.lang
         WHERE status_page_subscription.confirmed_at IS NULL
       RETURNING id::text AS id`,
      [partnerId, email, lang, now],
    );
    return row?.id ?? null;
  }

  /** Confirms a pending subscription; false when there is none (deleted, purged or already confirmed). */
  async confirm(id: string, now: Date): Promise<boolean> {
    const [, affected] = await this.db.query<[unknown, number]>(
      'UPDATE status_page_subscription SET confirmed_at = $2 WHERE id = $1 AND confirmed_at IS NULL',
      [id, now],
    );
    return affected > 0;
  }

  async delete(id: string, partnerId?: number): Promise<boolean> {
    const [, affected] = await this.db.query<[unknown, number]>(
      'DELETE FROM status_page_subscription WHERE id = $1 AND ($2::int IS NULL OR partner_id = $2)',
      [id, partnerId ?? null],
    );
    return affected > 0;
  }

  /** A customer's subscribers, confirmed first. */
  list(partnerId: number): Promise<SubscriptionRow[]> {
    return this.db.query<SubscriptionRow[]>(
      `SELECT id::text AS id, partner_id, email, lang, created_at, confirmed_at FROM status_page_subscription
        WHERE partner_id = $1 ORDER BY confirmed_at IS NULL, email`,
      [partnerId],
    );
  }

  /** Deletes the pending subscriptions requested before `before`; returns how many. */
  async purgePending(before: Date): Promise<number> {
    const [, affected] = await this.db.query<[unknown, number]>(
      'DELETE FROM status_page_subscription WHERE confirmed_at IS NULL AND created_at < $1',
      [before],
    );
    return affected;
  }

  /** Deletes sent and failed e-mails queued before `before`. */
  async purgeMails(before: Date): Promise<number> {
    const [, affected] = await this.db.query<[unknown, number]>(
      "DELETE FROM status_page_mail WHERE state <> 'pending' AND created_at < $1",
      [before],
    );
    return affected;
  }

  // The outbox.

  /** Queues one e-mail to one subscription (a confirmation request). */
  async enqueueOne(
    subscriptionId: string,
    mail: MailEvent,
    now: Date,
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO status_page_mail (subscription_id, event, kind, args, created_at, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (subscription_id, event) DO NOTHING`,
      [subscriptionId, mail.event, mail.kind, JSON.stringify(mail.args), now],
    );
  }

  /**
   * Queues an e-mail to every confirmed subscriber, since before `since`, of the enabled pages of these customers
   * (null: of every page); returns how many were queued.
   */
  async enqueueForPartners(
    partnerIds: number[] | null,
    since: Date,
    mail: MailEvent,
    now: Date,
    manager: EntityManager,
  ): Promise<number> {
    const [, count] = await manager.query<[unknown, number]>(
      `INSERT INTO status_page_mail (subscription_id, event, kind, args, created_at, next_attempt_at)
       SELECT s.id, $3, $4, $5, $6, $6 FROM status_page_subscription s
        WHERE s.confirmed_at IS NOT NULL AND s.confirmed_at <= $2
          AND ($1::int[] IS NULL OR s.partner_id = ANY($1::int[]))
          AND EXISTS (SELECT 1 FROM status_page p WHERE p.partner_id = s.partner_id)
       ON CONFLICT (subscription_id, event) DO NOTHING`,
      [partnerIds, since, mail.event, mail.kind, JSON.stringify(mail.args), now],
    );
    return count;
  }

  /**
   * Claims one due e-mail until the database's now() + `leaseSeconds` and counts the try; a claim whose lease
   * passed (a replica that died) is taken over, one being made is skipped.
   */
  async claim(now: Date, leaseSeconds: number, manager: EntityManager): Promise<ClaimedMail | undefined> {
    const [rows] = await manager.query<[{ id: string }[], number]>(
      `UPDATE status_page_mail SET attempts = attempts + 1, claimed_until = now() + make_interval(secs => $2)
        WHERE id = (SELECT id FROM status_page_mail
                     WHERE state = 'pending' AND next_attempt_at <= $1
                       AND (claimed_until IS NULL OR claimed_until < now())
                     ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id`,
      [now, leaseSeconds],
    );
    if (!rows[0]) return undefined;
    const [mail] = await manager.query<ClaimedMail[]>(
      `SELECT m.id::text AS id, m.subscription_id::text AS subscription_id, m.kind, m.args, m.attempts, s.email,
              s.lang, p.lang AS partner_lang, p.name AS customer, sp.token
         FROM status_page_mail m JOIN status_page_subscription s ON s.id = m.subscription_id
         JOIN partner p ON p.id = s.partner_id
         LEFT JOIN status_page sp ON sp.partner_id = s.partner_id
        WHERE m.id = $1`,
      [rows[0].id],
    );
    return mail;
  }

  async markSent(id: string, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE status_page_mail SET state = 'sent', sent_at = $2, claimed_until = NULL, last_error = NULL
        WHERE id = $1`,
      [id, now],
    );
  }

  async markRetry(id: string, error: string, next: Date): Promise<void> {
    await this.db.query(
      'UPDATE status_page_mail SET last_error = $2, next_attempt_at = $3, claimed_until = NULL WHERE id = $1',
      [id, error, next],
    );
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db.query(
      "UPDATE status_page_mail SET state = 'failed', last_error = $2, claimed_until = NULL WHERE id = $1",
      [id, error],
    );
  }

  // The notifier's cursor.

  /** Locks the cursor row for the rest of the transaction: one replica reads and moves it at a time. */
  async lockCursor(manager: EntityManager): Promise<{ alert_id: string | null; window_id: number | null }> {
    const [row] = await manager.query<{ alert_id: string | null; window_id: number | null }[]>(
      'SELECT alert_id::text AS alert_id, window_id FROM status_page_cursor WHERE id = 1 FOR UPDATE',
    );
    return row;
  }

  async moveCursor(alertId: string, windowId: number, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE status_page_cursor SET alert_id = $1, window_id = $2 WHERE id = 1', [
      alertId,
      windowId,
    ]);
  }
}
