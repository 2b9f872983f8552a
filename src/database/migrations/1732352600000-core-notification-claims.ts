import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claim-then-release for the notification dispatcher (issue 22 item 6, issue 24 item 1): a delivery claims its row
 * in a short transaction (`claimed_by`, `claimed_until` = the database's now() + a lease) and sends with no
 * database connection held; a claim whose lease passed (its worker died) is taken again.
 */
export class CoreNotificationClaims1732352600000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(
      'ALTER TABLE mail_notification ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz',
    );
    // A dispatcher finds its own claims (to record or release them after a database outage).
    await db.query(
      'CREATE INDEX mail_notification_claimed_by_idx ON mail_notification (claimed_by) WHERE claimed_by IS NOT NULL',
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX mail_notification_claimed_by_idx');
    await db.query('ALTER TABLE mail_notification DROP COLUMN claimed_by, DROP COLUMN claimed_until');
  }
}
