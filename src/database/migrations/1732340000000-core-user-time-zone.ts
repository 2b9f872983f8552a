import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The time zone a user reads dates in (the web UI); null: the browser's. */
export class CoreUserTimeZone1732340000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE users ADD COLUMN time_zone text');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE users DROP COLUMN time_zone');
  }
}
