import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CloudPlatformInit1732600000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE cloud_platform_report (
        id serial PRIMARY KEY,
        checked_at timestamptz NOT NULL,
        environment text NOT NULL,
        environment_raw text NOT NULL,
        version text NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('startup', 'manual', 'cli', 'schedule')),
        ok boolean NOT NULL,
        unsafe boolean NOT NULL,
        checks jsonb NOT NULL
      );
      CREATE INDEX cloud_platform_report_checked_at ON cloud_platform_report (checked_at DESC, id DESC);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE cloud_platform_report');
  }
}
