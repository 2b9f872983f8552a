import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Failed sign-ins an e-mail may have before each further one waits. */
export const FREE_LOGIN_FAILURES = 4;
/** Longest wait between two sign-in attempts of one e-mail. */
export const MAX_LOGIN_BACKOFF_SECONDS = 15 * 60;
/** Failures older than this are forgotten. */
const FORGET_AFTER = '1 day';

/**
 * Sign-in attempts per e-mail, in the database so that every replica sees the same count. An attempt is counted
 * before the password is checked (parallel guesses cannot slip through between a check and its count) and
 * forgotten when it succeeds.
 */
@Injectable()
export class LoginAttemptsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Counts an attempt of `email` unless the e-mail is waiting: returns undefined when the attempt may go on, else
   * the time until which it waits. After FREE_LOGIN_FAILURES counted attempts, the next must wait 1 s, then 2 s,
   * 4 s… up to MAX_LOGIN_BACKOFF_SECONDS.
   */
  async begin(email: string, now: Date): Promise<Date | undefined> {
    // An INSERT's answer is its rows (an UPDATE's would be [rows, count]).
    const rows = await this.db.query<{ failures: number }[]>(
      `INSERT INTO login_attempt AS a (email, failures, last_attempt_at, blocked_until)
       VALUES ($1, 1, $2, NULL)
       ON CONFLICT (email) DO UPDATE SET
         failures = CASE WHEN a.last_attempt_at < $2::timestamptz - $5::interval THEN 1 ELSE a.failures + 1 END,
         last_attempt_at = $2,
         blocked_until = CASE
           WHEN a.last_attempt_at >= $2::timestamptz - $5::interval AND a.failures + 1 > $3::int
           THEN $2::timestamptz + make_interval(secs => least($4::float8, power(2, a.failures - $3::int)))
         END
       WHERE a.blocked_until IS NULL OR a.blocked_until <= $2
       RETURNING a.failures`,
      [email, now, FREE_LOGIN_FAILURES, MAX_LOGIN_BACKOFF_SECONDS, FORGET_AFTER],
    );
    if (rows.length > 0) return undefined;
    const [blocked] = await this.db.query<{ blocked_until: Date | null }[]>(
      'SELECT blocked_until FROM login_attempt WHERE email = $1',
      [email],
    );
    return blocked?.blocked_until ?? now;
  }

  /** A successful sign-in forgets the e-mail's failures. */
  async succeeded(email: string): Promise<void> {
    await this.db.query('DELETE FROM login_attempt WHERE email = $1', [email]);
  }

  /** Forgets attempts nobody made for a day (e-mails that are nobody's are never cleared by a success). */
  async forgetOld(now: Date): Promise<void> {
    await this.db.query(`DELETE FROM login_attempt WHERE last_attempt_at < $1::timestamptz - $2::interval`, [
      now,
      FORGET_AFTER,
    ]);
  }
}
