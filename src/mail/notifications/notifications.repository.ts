import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { MESSAGE_SELECT, type MessageRow } from '../chatter/chatter.repository.js';
import { Database } from '../../database/database.js';

export interface ClaimedNotification {
  id: string;
  messageId: number;
  partnerId: number;
  /** `email`, or the kind of an alert channel (`webhook`, `slack`…). */
  channel: string;
  /** The alert channel subscription; null for e-mail. */
  channelId: number | null;
  emailMessageId: string | null;
  attempts: number;
  createdAt: Date;
}

export interface EmailRecipient {
  name: string;
  email: string | null;
  lang: string;
}

export interface InboxRow {
  id: string;
  readAt: Date | null;
  createdAt: Date;
  message: MessageRow;
}

/** The outbox and the inbox: notification rows. */
@Injectable()
export class NotificationsRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
  ) {}

  /** Deletes the e-mail notifications of these messages to these partners; returns the deleted pairs. */
  async withholdEmails(
    messageIds: number[],
    partnerIds: number[],
    manager: EntityManager,
  ): Promise<{ messageId: number; partnerId: number }[]> {
    if (messageIds.length === 0 || partnerIds.length === 0) return [];
    // Through a CTE: a bare DELETE … RETURNING comes back from TypeORM as [rows, count].
    return manager.query<{ messageId: number; partnerId: number }[]>(
      `WITH held AS (
         DELETE FROM mail_notification
         WHERE message_id = ANY($1::int[]) AND channel = 'email' AND partner_id = ANY($2::int[])
         RETURNING message_id, partner_id)
       SELECT message_id AS "messageId", partner_id AS "partnerId" FROM held`,
      [messageIds, partnerIds],
    );
  }

  /** Runs `work` in one short transaction on one connection. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.database.transaction(work);
  }

  /**
   * Claims one due row of the given channels (`email`, `webhook`…) for `worker` until the database's now() +
   * `leaseSeconds`, and counts the try. Rows another worker holds a live claim on are skipped, and so are rows
   * locked by a claim being made (`SKIP LOCKED`); a claim whose lease passed (its worker died) is taken over. The
   * claim outlives the transaction: the caller commits it, sends with no connection held, and records the outcome
   * in another transaction.
   */
  async claimOne(
    now: Date,
    worker: string,
    leaseSeconds: number,
    channels: string[],
    manager: EntityManager,
  ): Promise<ClaimedNotification | undefined> {
    const [rows] = await manager.query<[ClaimedNotification[], number]>(
      `UPDATE mail_notification SET attempts = attempts + 1, claimed_by = $3,
         claimed_until = now() + make_interval(secs => $4)
       WHERE id = (
         SELECT id FROM mail_notification
         WHERE state = 'pending' AND channel = ANY($2::text[]) AND next_attempt_at <= $1
           AND (claimed_until IS NULL OR claimed_until < now())
         ORDER BY next_attempt_at LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING id, message_id AS "messageId", partner_id AS "partnerId", channel, channel_id AS "channelId",
         email_message_id AS "emailMessageId", attempts, created_at AS "createdAt"`,
      [now, channels, worker, leaseSeconds],
    );
    return rows[0];
  }

  /**
   * Locks the row for recording a delivery's outcome if `worker`'s claim on it still stands; false when it lapsed
   * and another worker took the row over (or it was failed meanwhile): then the outcome is not recorded.
   */
  async holdsClaim(id: string, worker: string, manager: EntityManager): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM mail_notification WHERE id = $1 AND claimed_by = $2 AND state = 'pending' FOR UPDATE`,
      [id, worker],
    );
    return rows.length > 0;
  }

  /** Ends `worker`'s claims but those in `keep` (deliveries in progress, outcomes waiting to be recorded). */
  async releaseClaims(worker: string, keep: string[]): Promise<number> {
    const [, released] = await this.db.query<[unknown, number]>(
      `UPDATE mail_notification SET claimed_by = NULL, claimed_until = NULL
       WHERE claimed_by = $1 AND id <> ALL($2::uuid[])`,
      [worker, keep],
    );
    return released;
  }

  async recipient(partnerId: number, manager: EntityManager): Promise<EmailRecipient | undefined> {
    const rows = await manager.query<EmailRecipient[]>(
      'SELECT name, email, lang FROM partner WHERE id = $1',
      [partnerId],
    );
    return rows[0];
  }

  async markSent(id: string, to: string | null, now: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE mail_notification SET state = 'sent', sent_at = $2, email_to = $3, last_error = NULL,
         next_attempt_at = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = $1`,
      [id, now, to],
    );
  }

  /** Schedules another try and ends the claim. */
  async markRetry(id: string, error: string, nextAttemptAt: Date, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE mail_notification SET last_error = $2, next_attempt_at = $3, claimed_by = NULL, claimed_until = NULL
       WHERE id = $1 AND state = 'pending'`,
      [id, error, nextAttemptAt],
    );
  }

  async markFailed(id: string, error: string, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE mail_notification SET state = 'failed', last_error = $2, next_attempt_at = NULL, claimed_by = NULL,
         claimed_until = NULL WHERE id = $1`,
      [id, error],
    );
  }

  /** `web.base_url`, `mail.channels.allow_private_networks`… */
  async setting(key: string, manager: EntityManager): Promise<string | undefined> {
    const rows = await manager.query<{ value: string }[]>('SELECT value FROM setting WHERE key = $1', [key]);
    return rows[0]?.value;
  }

  async countPending(): Promise<number> {
    const rows = await this.db.query<{ count: number }[]>(
      "SELECT count(*)::int AS count FROM mail_notification WHERE state = 'pending'",
    );
    return rows[0].count;
  }

  /** A partner's inbox: unread first, then newest first. */
  async inbox(
    partnerId: number,
    options: { unreadOnly: boolean; limit: number; offset: number },
  ): Promise<{ rows: InboxRow[]; total: number; unread: number }> {
    const where = `n.partner_id = $1 AND n.channel = 'inbox' AND ($2 = false OR n.read_at IS NULL)`;
    const [rows, counts] = await Promise.all([
      this.db.query<{ id: string; readAt: Date | null; createdAt: Date; messageId: number }[]>(
        `SELECT n.id, n.read_at AS "readAt", n.created_at AS "createdAt", n.message_id AS "messageId"
         FROM mail_notification n WHERE ${where}
         ORDER BY (n.read_at IS NULL) DESC, n.created_at DESC, n.message_id DESC LIMIT $3 OFFSET $4`,
        [partnerId, options.unreadOnly, options.limit, options.offset],
      ),
      this.db.query<{ total: number; unread: number }[]>(
        `SELECT count(*)::int AS total, (count(*) FILTER (WHERE n.read_at IS NULL))::int AS unread
         FROM mail_notification n WHERE ${where}`,
        [partnerId, options.unreadOnly],
      ),
    ]);
    const ids = rows.map((r) => r.messageId);
    const messages = ids.length
      ? await this.db.query<MessageRow[]>(`${MESSAGE_SELECT} WHERE m.id = ANY($1)`, [ids])
      : [];
    const byId = new Map(messages.map((m) => [m.id, m]));
    return {
      rows: rows.map((r) => ({
        id: r.id,
        readAt: r.readAt,
        createdAt: r.createdAt,
        message: byId.get(r.messageId)!,
      })),
      total: counts[0].total,
      unread: counts[0].unread,
    };
  }

  async markRead(partnerId: number, id: string | undefined, now: Date): Promise<number> {
    const [, affected] = await this.db.query<[unknown, number]>(
      `UPDATE mail_notification SET read_at = $3
       WHERE partner_id = $1 AND channel = 'inbox' AND read_at IS NULL AND ($2::uuid IS NULL OR id = $2::uuid)`,
      [partnerId, id ?? null, now],
    );
    return affected;
  }

  async inboxRowExists(partnerId: number, id: string): Promise<boolean> {
    const rows = await this.db.query<unknown[]>(
      "SELECT 1 FROM mail_notification WHERE id = $1 AND partner_id = $2 AND channel = 'inbox'",
      [id, partnerId],
    );
    return rows.length > 0;
  }
}
