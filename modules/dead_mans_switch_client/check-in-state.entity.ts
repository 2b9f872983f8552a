import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The single row of check-in bookkeeping that replicas share (compare-and-set claims happen on it). */
@Entity('dead_mans_switch_client_state')
export class CheckInState {
  @PrimaryColumn('smallint')
  id: number;

  /** When the last check-in started (set by the claim). */
  @Column('timestamptz', { nullable: true })
  lastAttemptAt: Date | null;

  /** A replica is sending until then; others wait (covers a send slower than a tick). */
  @Column('timestamptz', { nullable: true })
  sendingUntil: Date | null;

  @Column('timestamptz', { nullable: true })
  lastSuccessAt: Date | null;

  @Column('integer')
  consecutiveFailures: number;

  /** Translation key of the last error, rendered in the reader's language. */
  @Column('text', { nullable: true })
  lastErrorKey: string | null;

  @Column('jsonb', { nullable: true })
  lastErrorArgs: Record<string, string | number> | null;

  @Column('timestamptz', { nullable: true })
  lastErrorAt: Date | null;

  /** The server's last answer (parsed JSON, or its text). */
  @Column('jsonb', { nullable: true })
  lastResponse: unknown;
}
