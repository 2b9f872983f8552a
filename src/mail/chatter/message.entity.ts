import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Translatable } from './thread.js';

export type MessageType = 'comment' | 'note' | 'notification';

/** How a message reaches one recipient: built-in `inbox` and `email`, or an alert channel's kind (`webhook`…). */
export type NotificationChannel = 'inbox' | 'email' | (string & {});
/** Where that delivery stands. */
export type NotificationState = 'pending' | 'sent' | 'failed';

/** A message in a record's chatter, or a notification without a record (`model` and `resId` null). */
@Entity('mail_message')
export class Message {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text', { nullable: true })
  model: string | null;

  @Column('integer', { nullable: true })
  resId: number | null;

  /** The record's display name when the message was posted (e-mail subjects, inbox). */
  @Column('text', { nullable: true })
  recordName: string | null;

  @Column('text')
  messageType: MessageType;

  @Column('integer', { nullable: true })
  subtypeId: number | null;

  /** Null for messages posted by the system. */
  @Column('integer', { nullable: true })
  authorPartnerId: number | null;

  @Column('jsonb', { nullable: true })
  subject: Translatable | null;

  @Column('jsonb')
  body: Translatable;

  /** `<addon>/<name>` of the e-mail template; the default message template when null. */
  @Column('text', { nullable: true })
  template: string | null;

  @Column('jsonb', { nullable: true })
  templateValues: Record<string, unknown> | null;

  @Column('timestamptz')
  createdAt: Date;
}
