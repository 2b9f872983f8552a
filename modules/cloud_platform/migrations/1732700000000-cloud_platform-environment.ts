import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CloudPlatformEnvironment1732700000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE cloud_platform_environment (
        id serial PRIMARY KEY,
        name text NOT NULL UNIQUE,
        environment text NOT NULL,
        statuses jsonb NOT NULL DEFAULT '{}',
        last_report_id integer,
        last_checked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      ALTER TABLE cloud_platform_report
        ADD COLUMN environment_id integer REFERENCES cloud_platform_environment (id) ON DELETE SET NULL;
      -- Reports kept before this version belong to the environment they name.
      INSERT INTO cloud_platform_environment (name, environment, created_at)
        SELECT DISTINCT ON (environment_raw) environment_raw, environment, checked_at
        FROM cloud_platform_report ORDER BY environment_raw, checked_at;
      UPDATE cloud_platform_report r SET environment_id = e.id
        FROM cloud_platform_environment e WHERE e.name = r.environment_raw;
      CREATE INDEX cloud_platform_report_environment ON cloud_platform_report (environment_id, checked_at DESC);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE cloud_platform_report DROP COLUMN environment_id;
      DROP TABLE cloud_platform_environment;
    `);
  }
}
