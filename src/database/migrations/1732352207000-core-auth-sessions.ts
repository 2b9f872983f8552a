import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Revocable sessions and per-account sign-in back-off (issue 22): `users.token_version` is carried by every access
 * token and web session and bumped by sign-out, a password change and deactivation; `login_attempt` counts the
 * failed sign-ins of an e-mail (known or not, so that its answers tell nothing) for every replica.
 */
export class CoreAuthSessions1732352207000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0');
    await db.query(`
      CREATE TABLE login_attempt (
        email text PRIMARY KEY,
        failures integer NOT NULL,
        last_attempt_at timestamptz NOT NULL,
        blocked_until timestamptz
      )`);
    await db.query('CREATE INDEX login_attempt_last_attempt_at ON login_attempt (last_attempt_at)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE login_attempt');
    await db.query('ALTER TABLE users DROP COLUMN token_version');
  }
}
