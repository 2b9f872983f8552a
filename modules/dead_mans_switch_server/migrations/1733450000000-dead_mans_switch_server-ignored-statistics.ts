import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerIgnoredStatistics1733450000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- Statistics a check-in carried that were not stored as sent (out of range, wrong type, too long): one row
      -- per instance and statistic, counted, so that the instance page shows them and the first one is an event.
      CREATE TABLE dead_mans_switch_ignored_statistic (
        instance_id integer NOT NULL REFERENCES dead_mans_switch_instance (id) ON DELETE CASCADE,
        field text NOT NULL,
        -- The translation key of the reason, and its arguments.
        reason text NOT NULL,
        args jsonb NOT NULL DEFAULT '{}',
        last_value text NOT NULL,
        count integer NOT NULL DEFAULT 1 CHECK (count > 0),
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        PRIMARY KEY (instance_id, field)
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE dead_mans_switch_ignored_statistic');
  }
}
