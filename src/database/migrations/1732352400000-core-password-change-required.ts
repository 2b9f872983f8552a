import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users who still sign in with a password they did not choose (the first administrator's generated one): every
 * web page asks them to change it until they do.
 */
export class CorePasswordChangeRequired1732352400000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE users ADD COLUMN password_change_required boolean NOT NULL DEFAULT false');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE users DROP COLUMN password_change_required');
  }
}
