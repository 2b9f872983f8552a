import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One tracked field's change, logged on a message. */
@Entity('mail_tracking_value')
export class TrackingValue {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer')
  messageId: number;

  @Column('text')
  field: string;

  /** Translation key of the field's label. */
  @Column('text')
  label: string;

  @Column('text', { nullable: true })
  oldValue: string | null;

  @Column('text', { nullable: true })
  newValue: string | null;
}
