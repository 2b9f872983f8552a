import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerCronExpectation1733100000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- A cron expectation instead of a fixed delay: check-ins are expected at each occurrence of expect_cron in
      -- expect_time_zone; the instance is down expect_grace seconds after an occurrence without a check-in.
      -- The watchdog still reads only next_deadline, computed when the instance checks in.
      ALTER TABLE dead_mans_switch_instance
        ADD COLUMN expect_cron text,
        ADD COLUMN expect_time_zone text,
        ADD COLUMN expect_grace integer NOT NULL DEFAULT 1800 CHECK (expect_grace >= 0),
        ADD CHECK ((expect_cron IS NULL) = (expect_time_zone IS NULL));
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE dead_mans_switch_instance
        DROP COLUMN expect_grace, DROP COLUMN expect_time_zone, DROP COLUMN expect_cron;
    `);
  }
}
