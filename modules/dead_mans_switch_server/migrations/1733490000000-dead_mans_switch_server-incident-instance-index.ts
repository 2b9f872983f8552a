import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerIncidentInstanceIndex1733490000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    // An instance's incidents by time (the monthly customer report, the instance's history): without it, a scan of
    // every outage ever recorded.
    await db.query(`CREATE INDEX dead_mans_switch_incident_instance_started ON dead_mans_switch_incident_instance
      (instance_id, started_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX dead_mans_switch_incident_instance_started');
  }
}
