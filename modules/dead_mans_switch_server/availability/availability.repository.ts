import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { MaintenanceWindow } from '../maintenance-window.entity.js';
import { DISPLAY_NAME_COLUMNS } from '../instance-names.repository.js';
import { HEARTBEAT } from '../incidents/incidents.repository.js';

/** An instance of a customer as an availability report reads it. */
export interface AvailabilityInstanceRow {
  id: number;
  partner_name: string | null;
  database_uuid: string;
  description: string | null;
  state: 'new' | 'active' | 'suspended';
  created_at: Date;
  last_seen: Date | null;
}

/** A down or back-up alert (reminders change nothing). */
export interface TransitionRow {
  instance_id: number;
  kind: 'down' | 'up';
  created_at: Date;
}

/** An incident of check-ins, with the outage of each of its instances (timestamps of the members as JSON text). */
export interface AvailabilityIncidentRow {
  id: number;
  cause: 'heartbeat' | 'cron';
  started_at: Date;
  ended_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by_name: string | null;
  members: { instance_id: number; started_at: string; ended_at: string | null }[];
}

/** Reads for availability reports (other addons read them through AvailabilityService). */
@Injectable()
export class AvailabilityRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The customer's instances that were ever activated (not `new`), in id order. */
  instances(partnerId: number): Promise<AvailabilityInstanceRow[]> {
    return this.db.query<AvailabilityInstanceRow[]>(
      `SELECT i.id, ${DISPLAY_NAME_COLUMNS}, i.state, i.created_at, i.last_seen
         FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id
        WHERE i.partner_id = $1 AND i.state <> 'new'
        ORDER BY i.id`,
      [partnerId],
    );
  }

  /**
   * The down and up alerts of these instances before `to`: those from `from` on, and the last one before `from` of
   * each instance (whether it entered the period down), oldest first.
   */
  transitions(instanceIds: number[], from: Date, to: Date): Promise<TransitionRow[]> {
    return this.db.query<TransitionRow[]>(
      `SELECT instance_id, kind, created_at FROM (
         SELECT a.instance_id, a.kind, a.created_at, a.id FROM dead_mans_switch_alert a
          WHERE a.instance_id = ANY($1) AND a.kind IN ('down', 'up') AND a.created_at >= $2 AND a.created_at < $3
         UNION ALL
         SELECT b.instance_id, b.kind, b.created_at, b.id FROM unnest($1::int[]) AS i(id)
           CROSS JOIN LATERAL (SELECT a.instance_id, a.kind, a.created_at, a.id FROM dead_mans_switch_alert a
             WHERE a.instance_id = i.id AND a.kind IN ('down', 'up') AND a.created_at < $2
             ORDER BY a.created_at DESC, a.id DESC LIMIT 1) b
       ) t ORDER BY created_at, id`,
      [instanceIds, from, to],
    );
  }

  /** The maintenance windows that concern the customer: of its instances, of itself, and the global ones. */
  windows(partnerId: number): Promise<MaintenanceWindow[]> {
    return this.db.query<MaintenanceWindow[]>(
      `SELECT w.id, w.instance_id AS "instanceId", w.partner_id AS "partnerId", w.description,
              w.starts_at AS "startsAt", w.ends_at AS "endsAt", w.cron, w.duration_seconds AS "durationSeconds",
              w.time_zone AS "timeZone", w.created_at AS "createdAt"
         FROM dead_mans_switch_maintenance w
        WHERE w.partner_id = $1 OR (w.instance_id IS NULL AND w.partner_id IS NULL)
           OR w.instance_id IN (SELECT id FROM dead_mans_switch_instance WHERE partner_id = $1)
        ORDER BY w.id`,
      [partnerId],
    );
  }

  /**
   * The incidents of these instances' check-ins (not of probes) open at some time in [from, to), oldest first, with
   * those of their instances that are among these.
   */
  incidents(instanceIds: number[], from: Date, to: Date): Promise<AvailabilityIncidentRow[]> {
    return this.db.query<AvailabilityIncidentRow[]>(
      `SELECT n.id, n.cause, n.started_at, n.ended_at, n.acknowledged_at, n.acknowledged_by_name,
              json_agg(json_build_object('instance_id', ii.instance_id, 'started_at', ii.started_at,
                'ended_at', ii.ended_at) ORDER BY ii.instance_id) AS members
         FROM dead_mans_switch_incident n JOIN dead_mans_switch_incident_instance ii ON ii.incident_id = n.id
        WHERE ii.instance_id = ANY($1::int[]) AND ii.source = $4
          AND n.started_at < $3 AND (n.ended_at IS NULL OR n.ended_at > $2)
        GROUP BY n.id
        ORDER BY n.started_at, n.id`,
      [instanceIds, from, to, HEARTBEAT],
    );
  }
}
