import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { NotificationChannel, NotificationState } from '../chatter/message.entity.js';

/** One recipient of one message on one channel: the outbox row the dispatcher works from. */
@Entity('mail_notification')
export class Notification {
  @PrimaryColumn('uuid')
  id: string;

  @Column('integer')
  messageId: number;

  @Column('integer')
  partnerId: number;

  @Column('text')
  channel: NotificationChannel;

  /** The alert channel subscription the row goes to; null for inbox and e-mail. */
  @Column('integer', { nullable: true })
  channelId: number | null;

  @Column('text')
  state: NotificationState;

  /** `<id@vigil>`: the same on every attempt, so a receiver can recognise a duplicate. */
  @Column('text', { nullable: true })
  emailMessageId: string | null;

  @Column('text', { nullable: true })
  emailTo: string | null;

  @Column('integer', { default: 0 })
  attempts: number;

  @Column('timestamptz', { nullable: true })
  nextAttemptAt: Date | null;

  @Column('text', { nullable: true })
  lastError: string | null;

  @Column('timestamptz', { nullable: true })
  sentAt: Date | null;

  @Column('timestamptz', { nullable: true })
  readAt: Date | null;

  @Column('timestamptz')
  createdAt: Date;

  /** The dispatcher that claimed the row for a delivery in progress; null when none does. */
  @Column('text', { nullable: true })
  claimedBy: string | null;

  /** When that claim lapses (the database's clock): past it, another dispatcher may take the row. */
  @Column('timestamptz', { nullable: true })
  claimedUntil: Date | null;
}
