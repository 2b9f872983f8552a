import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CheckInState } from './check-in-state.entity.js';

@Injectable()
export class CheckInStateRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async get(): Promise<CheckInState> {
    return this.db.getRepository(CheckInState).findOneByOrFail({ id: 1 });
  }

  /**
   * Claims the next check-in if the row still holds what the caller's decision read and nobody is sending:
   * of several replicas deciding on the same state, exactly one wins.
   */
  async claim(read: CheckInState, now: Date, sendingUntil: Date): Promise<boolean> {
    const rows = await this.db.query<[unknown[], number]>(
      `UPDATE dead_mans_switch_client_state SET last_attempt_at = $1, sending_until = $2
       WHERE id = 1 AND last_attempt_at IS NOT DISTINCT FROM $3 AND consecutive_failures = $4
         AND (sending_until IS NULL OR sending_until <= $1)
       RETURNING id`,
      [now, sendingUntil, read.lastAttemptAt, read.consecutiveFailures],
    );
    return rows[1] === 1;
  }

  /** An explicit request (CLI, API) sends whatever the schedule says, and pushes the schedule back. */
  async claimNow(now: Date, sendingUntil: Date): Promise<void> {
    await this.db.query(
      'UPDATE dead_mans_switch_client_state SET last_attempt_at = $1, sending_until = $2 WHERE id = 1',
      [now, sendingUntil],
    );
  }

  async recordSuccess(at: Date, response: unknown): Promise<void> {
    await this.db.query(
      `UPDATE dead_mans_switch_client_state
       SET sending_until = NULL, last_success_at = $1, consecutive_failures = 0, last_response = $2
       WHERE id = 1`,
      [at, JSON.stringify(response ?? null)],
    );
  }

  /** Returns the number of consecutive failures, this one included. */
  async recordFailure(at: Date, key: string, args: Record<string, string | number>): Promise<number> {
    const rows = await this.db.query<[{ consecutive_failures: number }[], number]>(
      `UPDATE dead_mans_switch_client_state
       SET sending_until = NULL, consecutive_failures = consecutive_failures + 1,
           last_error_key = $2, last_error_args = $3, last_error_at = $1
       WHERE id = 1 RETURNING consecutive_failures`,
      [at, key, JSON.stringify(args)],
    );
    return rows[0][0].consecutive_failures;
  }
}
