import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DeadMansSwitchServerIncidents1733481000000 implements MigrationInterface {
  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      -- One outage: opened with the down alert that decided it, closed when its last instance recovered.
      CREATE TABLE dead_mans_switch_incident (
        id serial PRIMARY KEY,
        cause text NOT NULL CHECK (cause IN ('heartbeat', 'cron', 'probe')),
        -- A probe's incident: which probe (no foreign key: the probe may be removed, the incident stays).
        probe_id integer,
        probe_kind text,
        partner_id integer REFERENCES partner (id) ON DELETE SET NULL,
        -- A storm's incident: the watchdog pass that grouped its instances (one incident per pass and customer).
        storm_pass_at timestamptz,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        acknowledged_at timestamptz,
        acknowledged_by_user_id integer REFERENCES users (id) ON DELETE SET NULL,
        -- The e-mail or channel recipient who followed an acknowledge link.
        acknowledged_by_partner_id integer REFERENCES partner (id) ON DELETE SET NULL,
        acknowledged_by_name text
      );
      CREATE UNIQUE INDEX dead_mans_switch_incident_storm ON dead_mans_switch_incident
        (storm_pass_at, coalesce(partner_id, 0)) WHERE storm_pass_at IS NOT NULL;
      CREATE INDEX dead_mans_switch_incident_open ON dead_mans_switch_incident (started_at) WHERE ended_at IS NULL;
      CREATE INDEX dead_mans_switch_incident_started ON dead_mans_switch_incident (started_at DESC, id DESC);

      -- The instances of an incident (one, or many for a storm), each with its own outage.
      CREATE TABLE dead_mans_switch_incident_instance (
        incident_id integer NOT NULL REFERENCES dead_mans_switch_incident (id) ON DELETE CASCADE,
        instance_id integer NOT NULL REFERENCES dead_mans_switch_instance (id) ON DELETE CASCADE,
        -- 'heartbeat' (check-ins, with or without a cron expectation) or 'probe:<id>'.
        source text NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        PRIMARY KEY (incident_id, instance_id, source)
      );
      -- At most one open outage per instance and source: an incident exists exactly when the down alert does.
      CREATE UNIQUE INDEX dead_mans_switch_incident_instance_open ON dead_mans_switch_incident_instance
        (instance_id, source) WHERE ended_at IS NULL;

      -- Acknowledge links used: each (incident, recipient, expiry) link acknowledges once.
      CREATE TABLE dead_mans_switch_incident_ack_link (
        incident_id integer NOT NULL REFERENCES dead_mans_switch_incident (id) ON DELETE CASCADE,
        partner_id integer NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz NOT NULL,
        PRIMARY KEY (incident_id, partner_id, expires_at)
      );

      -- Escalation policy of an instance, or of a customer (its instances without a policy of their own).
      CREATE TABLE dead_mans_switch_escalation_step (
        id serial PRIMARY KEY,
        instance_id integer REFERENCES dead_mans_switch_instance (id) ON DELETE CASCADE,
        partner_id integer REFERENCES partner (id) ON DELETE CASCADE,
        position integer NOT NULL,
        after_minutes integer NOT NULL CHECK (after_minutes BETWEEN 1 AND 10080),
        user_ids integer[] NOT NULL DEFAULT '{}',
        channel_ids integer[] NOT NULL DEFAULT '{}',
        CHECK ((instance_id IS NULL) <> (partner_id IS NULL))
      );
      CREATE UNIQUE INDEX dead_mans_switch_escalation_step_instance ON dead_mans_switch_escalation_step
        (instance_id, position) WHERE instance_id IS NOT NULL;
      CREATE UNIQUE INDEX dead_mans_switch_escalation_step_partner ON dead_mans_switch_escalation_step
        (partner_id, position) WHERE partner_id IS NOT NULL;

      -- Escalation steps told: written in the transaction that posts the step's notification, so each is told once.
      CREATE TABLE dead_mans_switch_incident_escalation (
        incident_id integer NOT NULL REFERENCES dead_mans_switch_incident (id) ON DELETE CASCADE,
        position integer NOT NULL,
        after_minutes integer NOT NULL,
        message_id integer,
        notified_at timestamptz NOT NULL,
        PRIMARY KEY (incident_id, position)
      );
    `);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE dead_mans_switch_incident_escalation, dead_mans_switch_escalation_step,
      dead_mans_switch_incident_ack_link, dead_mans_switch_incident_instance, dead_mans_switch_incident`);
  }
}
