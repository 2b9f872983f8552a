import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Event levels and their stored numbers: "at or above" a level is a range. */
export const EVENT_LEVELS = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 } as const;
export type EventLevel = keyof typeof EVENT_LEVELS;
export const EVENT_LEVEL_NAMES = Object.keys(EVENT_LEVELS) as EventLevel[];

export const levelName = (value: number): EventLevel =>
  EVENT_LEVEL_NAMES.find((name) => EVENT_LEVELS[name] === value) ?? 'info';

/** One event an instance sent (`POST /dead_mans_switch/event`), with the server's time. */
@Entity('dead_mans_switch_event')
export class InstanceEvent {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column('integer')
  instanceId: number;

  @Column('timestamptz')
  receivedAt: Date;

  @Column('smallint')
  level: number;

  @Column('text')
  message: string;
}
