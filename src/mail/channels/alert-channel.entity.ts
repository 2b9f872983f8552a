import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A partner's subscription to one alert channel (a webhook, a Slack channel, a phone through Pushover…). */
@Entity('mail_channel')
export class AlertChannelSubscription {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer')
  partnerId: number;

  @Column('text')
  kind: string;

  @Column('text')
  name: string;

  /** The settings as JSON, sealed with the `channel-secrets` key (AlertChannelsRepository seals and opens). */
  @Column('text')
  sealedSettings: string;

  @Column('integer', { array: true, nullable: true })
  subtypeIds: number[] | null;

  @Column('boolean', { default: true })
  active: boolean;

  @Column('integer', { default: 0 })
  consecutiveFailures: number;

  @Column('text', { nullable: true })
  lastError: string | null;

  @Column('timestamptz', { nullable: true })
  disabledAt: Date | null;

  @Column('timestamptz')
  createdAt: Date;
}
