import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerDependenciesRuns1733485000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE dead_mans_switch_instance
        -- The instance this one depends on (a host, a VPN): while it is down, this one's alerts are suppressed.
        ADD COLUMN depends_on_id integer REFERENCES dead_mans_switch_instance (id) ON DELETE SET NULL,
        -- How many of its probes are down, set by the probes addon: a parent with a probe down counts as down.
        ADD COLUMN probes_down integer NOT NULL DEFAULT 0,
        -- Down without an alert because this ancestor was down, since when; cleared when it is told or recovers.
        ADD COLUMN suppressed_by_id integer REFERENCES dead_mans_switch_instance (id) ON DELETE SET NULL,
        ADD COLUMN suppressed_at timestamptz,
        -- Job-run timing: a run started (POST /dead_mans_switch/start) and not finished yet (alive), its timeout
        -- and the bounds of a finished run's duration, in seconds; the last finished run's duration.
        ADD COLUMN run_started_at timestamptz,
        ADD COLUMN run_timeout integer,
        ADD COLUMN run_min_seconds integer,
        ADD COLUMN run_max_seconds integer,
        ADD COLUMN last_run_seconds double precision;
      CREATE INDEX dead_mans_switch_instance_depends_on_idx ON dead_mans_switch_instance (depends_on_id)
        WHERE depends_on_id IS NOT NULL;
      CREATE INDEX dead_mans_switch_instance_suppressed_by_idx ON dead_mans_switch_instance (suppressed_by_id)
        WHERE suppressed_by_id IS NOT NULL;
      -- Finished runs: one row each (start, end, duration), for the instance page and the API.
      CREATE TABLE dead_mans_switch_run (
        id bigserial PRIMARY KEY,
        instance_id integer NOT NULL REFERENCES dead_mans_switch_instance (id) ON DELETE CASCADE,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL,
        seconds double precision NOT NULL
      );
      CREATE INDEX dead_mans_switch_run_instance_idx ON dead_mans_switch_run (instance_id, finished_at DESC);
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE dead_mans_switch_run;
      ALTER TABLE dead_mans_switch_instance DROP COLUMN depends_on_id, DROP COLUMN probes_down,
        DROP COLUMN suppressed_by_id, DROP COLUMN suppressed_at, DROP COLUMN run_started_at, DROP COLUMN run_timeout,
        DROP COLUMN run_min_seconds, DROP COLUMN run_max_seconds, DROP COLUMN last_run_seconds`);
  }
}
