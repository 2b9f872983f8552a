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

  /** Runs `work` in one transaction on one connection; the claimed row's lock lasts until it ends. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.database.transaction(work);
  }

  /**
   * Claims one due row of the given channels (`email`, `webhook`…) for the rest of the transaction: its row lock is the claim. Rows another dispatcher
   * holds, and `excluded` ones, are skipped. The lock is released the moment the transaction ends or its
   * connection dies (a crashed process, a restarted database), so an unfinished row is due again at once; and
   * the session is ended by PostgreSQL if it stays idle in the transaction longer than `idleLimitSeconds`
   * (a vanished sender that left its connection open).
   */
  async claimOne(
    now: Date,
    excluded: string[],
    idleLimitSeconds: number,
    channels: string[],
    manager: EntityManager,
  ): Promise<ClaimedNotification | undefined> {
    await manager.query(`SET LOCAL idle_in_transaction_session_timeout = '${Math.ceil(idleLimitSeconds)}s'`);
    const [rows] = await manager.query<[ClaimedNotification[], number]>(
      `UPDATE mail_notification SET attempts = attempts + 1
       WHERE id = (
         SELECT id FROM mail_notification
         WHERE state = 'pending' AND channel = ANY($3::text[]) AND next_attempt_at <= $1
           AND id <> ALL($2::uuid[])
         ORDER BY next_attempt_at LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING id, message_id AS "messageId", partner_id AS "partnerId", channel, channel_id AS "channelId",
         email_message_id AS "emailMessageId", attempts, created_at AS "createdAt"`,
      [now, excluded, channels],
    );
    return rows[0];
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
         next_attempt_at = NULL WHERE id = $1`,
      [id, now, to],
    );
  }

  /**
   * Schedules another try. Outside a transaction (`manager` omitted) it also counts the try, for a delivery whose
   * own transaction was lost with its `attempts + 1`.
   */
  async markRetry(id: string, error: string, nextAttemptAt: Date, manager?: EntityManager): Promise<void> {
    await (manager ?? this.db).query(
      `UPDATE mail_notification SET last_error = $2, next_attempt_at = $3,
         attempts = attempts + CASE WHEN $4 THEN 1 ELSE 0 END
       WHERE id = $1 AND state = 'pending'`,
      [id, error, nextAttemptAt, manager === undefined],
    );
  }

  async markFailed(id: string, error: string, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE mail_notification SET state = 'failed', last_error = $2, next_attempt_at = NULL WHERE id = $1`,
      [id, error],
    );
  }

  /** `web.base_url`, `mail.channels.allow_private_networks`… */
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
