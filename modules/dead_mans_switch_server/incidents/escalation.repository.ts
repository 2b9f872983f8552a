import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

export interface StepRow {
  position: number;
  after_minutes: number;
  user_ids: number[];
  channel_ids: number[];
}

/** A policy's owner: an instance, or a customer (for its instances without a policy of their own). */
export type PolicyOwner = { instanceId: number } | { partnerId: number };

/** A step due for an open, unacknowledged incident, not told yet. */
export interface DueStep extends StepRow {
  incident_id: number;
  started_at: Date;
}

/**
 * Escalation policies and the steps told. The policy of an incident: its instance's own when it has one instance
 * with a policy, else its customer's (a storm's incident, or an instance without one).
 */
const INCIDENT_STEPS = `
  WITH open AS (
    SELECT n.id, n.started_at, n.partner_id,
      (SELECT min(ii.instance_id) FROM dead_mans_switch_incident_instance ii WHERE ii.incident_id = n.id) AS first,
      (SELECT count(DISTINCT ii.instance_id) FROM dead_mans_switch_incident_instance ii WHERE ii.incident_id = n.id)
        AS instances
    FROM dead_mans_switch_incident n
    WHERE n.ended_at IS NULL AND n.acknowledged_at IS NULL
      -- An incident whose instances were all suspended meanwhile escalates no further.
      AND EXISTS (SELECT 1 FROM dead_mans_switch_incident_instance ii
                  JOIN dead_mans_switch_instance i ON i.id = ii.instance_id
                  WHERE ii.incident_id = n.id AND ii.ended_at IS NULL AND i.state = 'active'))
  SELECT o.id AS incident_id, o.started_at, s.position, s.after_minutes, s.user_ids, s.channel_ids
  FROM open o JOIN dead_mans_switch_escalation_step s ON CASE
    WHEN o.instances = 1 AND EXISTS (SELECT 1 FROM dead_mans_switch_escalation_step x WHERE x.instance_id = o.first)
      THEN s.instance_id = o.first
    ELSE s.partner_id = o.partner_id END`;

@Injectable()
export class EscalationRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private m(manager?: EntityManager) {
    return manager ?? this.db.manager;
  }

  async steps(owner: PolicyOwner, manager?: EntityManager): Promise<StepRow[]> {
    const [column, id] =
      'instanceId' in owner ? ['instance_id', owner.instanceId] : ['partner_id', owner.partnerId];
    return this.m(manager).query<StepRow[]>(
      `SELECT position, after_minutes, user_ids, channel_ids FROM dead_mans_switch_escalation_step
       WHERE ${column} = $1 ORDER BY position`,
      [id],
    );
  }

  /** Replaces a policy's steps (none removes it). */
  async replace(
    owner: PolicyOwner,
    steps: Omit<StepRow, 'position'>[],
    manager: EntityManager,
  ): Promise<void> {
    const [column, id] =
      'instanceId' in owner ? ['instance_id', owner.instanceId] : ['partner_id', owner.partnerId];
    await manager.query(`DELETE FROM dead_mans_switch_escalation_step WHERE ${column} = $1`, [id]);
    for (const [index, step] of steps.entries())
      await manager.query(
        `INSERT INTO dead_mans_switch_escalation_step (${column}, position, after_minutes, user_ids, channel_ids)
         VALUES ($1, $2, $3, $4, $5)`,
        [id, index + 1, step.after_minutes, step.user_ids, step.channel_ids],
      );
  }

  /** The partner of an instance (the customer whose policy applies when it has none). */
  async instancePartner(instanceId: number): Promise<{ partner_id: number | null } | undefined> {
    const rows = await this.db.query<{ partner_id: number | null }[]>(
      'SELECT partner_id FROM dead_mans_switch_instance WHERE id = $1',
      [instanceId],
    );
    return rows[0];
  }

  /** The next step due at `now` (oldest incident first), not told yet; `skip`: steps that failed in this run. */
  async nextDue(now: Date, skip: string[], manager: EntityManager): Promise<DueStep | undefined> {
    const rows = await manager.query<DueStep[]>(
      `SELECT d.* FROM (${INCIDENT_STEPS}) d
       WHERE d.started_at + make_interval(mins => d.after_minutes) <= $1
         AND (d.incident_id || ':' || d.position) <> ALL($2::text[])
         AND NOT EXISTS (SELECT 1 FROM dead_mans_switch_incident_escalation e
                         WHERE e.incident_id = d.incident_id AND e.position = d.position)
       ORDER BY d.started_at, d.incident_id, d.position LIMIT 1`,
      [now, skip],
    );
    return rows[0];
  }

  /**
   * Locks the incident if it is still open and unacknowledged (an acknowledgement waits for this transaction, or
   * this one sees it), then claims the step: false when another replica told it first (its row waits for that
   * replica's commit, then conflicts).
   */
  async claim(step: DueStep, now: Date, manager: EntityManager): Promise<boolean> {
    const open = await manager.query<unknown[]>(
      `SELECT 1 FROM dead_mans_switch_incident WHERE id = $1 AND ended_at IS NULL AND acknowledged_at IS NULL
       FOR UPDATE`,
      [step.incident_id],
    );
    if (open.length === 0) return false;
    const claimed = await manager.query<unknown[]>(
      `INSERT INTO dead_mans_switch_incident_escalation (incident_id, position, after_minutes, notified_at)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
      [step.incident_id, step.position, step.after_minutes, now],
    );
    return claimed.length > 0;
  }

  async recordMessage(step: DueStep, messageId: number, manager: EntityManager): Promise<void> {
    await manager.query(
      'UPDATE dead_mans_switch_incident_escalation SET message_id = $3 WHERE incident_id = $1 AND position = $2',
      [step.incident_id, step.position, messageId],
    );
  }

  /** The steps told of an incident. */
  async told(incidentId: number): Promise<{ position: number; after_minutes: number; notified_at: Date }[]> {
    return this.db.query(
      `SELECT position, after_minutes, notified_at FROM dead_mans_switch_incident_escalation
       WHERE incident_id = $1 ORDER BY position`,
      [incidentId],
    );
  }
}
