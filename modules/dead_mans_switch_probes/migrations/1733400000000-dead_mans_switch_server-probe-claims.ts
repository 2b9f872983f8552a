import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Claim-then-release for probe runs (issue 22 item 6, issue 24 item 1): a run claims its probe in a short
 * transaction (`claimed_by`, `claimed_until` = the database's now() + a lease), runs it with no database connection
 * held, and records the result in another; a claim whose lease passed (its worker died) is taken again.
 */
export class DeadMansSwitchServerProbeClaims1733400000000 implements MigrationInterface {
  // Run by dead_mans_switch_server before the probes had their own addon (its name stays: the record is by name).
  static readonly movedFrom = 'dead_mans_switch_server';

  async up(db: QueryRunner): Promise<void> {
    await db.query(
      'ALTER TABLE dead_mans_switch_probe ADD COLUMN claimed_by text, ADD COLUMN claimed_until timestamptz',
    );
    await db.query(
      'CREATE INDEX dead_mans_switch_probe_claimed_by_idx ON dead_mans_switch_probe (claimed_by) WHERE claimed_by IS NOT NULL',
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX dead_mans_switch_probe_claimed_by_idx');
    await db.query('ALTER TABLE dead_mans_switch_probe DROP COLUMN claimed_by, DROP COLUMN claimed_until');
  }
}
