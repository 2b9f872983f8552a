import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MESSAGE_SELECT, type MessageRow } from '../chatter/chatter.repository.js';

export interface ClaimedNotification {
  id: string;
  messageId: number;
  partnerId: number;
  emailMessageId: string;
  attempts: number;
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
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims due e-mail rows: skips rows another dispatcher is claiming, and moves `next_attempt_at` to the end of
   * a lease so that nobody else takes them while they are being sent — nor loses them if this process dies.
   */
  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedNotification[]> {
    const [rows] = await this.db.query<[ClaimedNotification[], number]>(
      `UPDATE mail_notification SET next_attempt_at = $2, attempts = attempts + 1
       WHERE id IN (
         SELECT id FROM mail_notification
         WHERE state = 'pending' AND channel = 'email' AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING id, message_id AS "messageId", partner_id AS "partnerId",
         email_message_id AS "emailMessageId", attempts`,
      [now, leaseUntil, limit],
    );
    return rows;
  }

  async recipient(partnerId: number): Promise<EmailRecipient | undefined> {
    const rows = await this.db.query<EmailRecipient[]>(
      'SELECT name, email, lang FROM partner WHERE id = $1',
      [partnerId],
    );
    return rows[0];
  }

  async message(id: number): Promise<MessageRow | undefined> {
    const rows = await this.db.query<MessageRow[]>(`${MESSAGE_SELECT} WHERE m.id = $1`, [id]);
    return rows[0];
  }

  async markSent(id: string, to: string, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE mail_notification SET state = 'sent', sent_at = $2, email_to = $3, last_error = NULL,
         next_attempt_at = NULL WHERE id = $1`,
      [id, now, to],
    );
  }

  async markRetry(id: string, error: string, nextAttemptAt: Date): Promise<void> {
    await this.db.query('UPDATE mail_notification SET last_error = $2, next_attempt_at = $3 WHERE id = $1', [
      id,
      error,
      nextAttemptAt,
    ]);
  }

  async markFailed(id: string, error: string): Promise<void> {
    await this.db.query(
      `UPDATE mail_notification SET state = 'failed', last_error = $2, next_attempt_at = NULL WHERE id = $1`,
      [id, error],
    );
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
