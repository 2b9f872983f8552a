import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { DISPLAY_NAME_COLUMNS } from '../instance-names.repository.js';
import type { IncidentCause, IncidentState } from './incident.entity.js';

/** The check-ins' source of an instance in an incident; a probe's is `probe:<id>`. */
export const HEARTBEAT = 'heartbeat';
export const probeSource = (probeId: number) => `probe:${probeId}`;

export interface IncidentRow {
  id: number;
  cause: IncidentCause;
  probe_id: number | null;
  probe_kind: string | null;
  partner_id: number | null;
  partner_name: string | null;
  storm_pass_at: Date | null;
  started_at: Date;
  ended_at: Date | null;
  acknowledged_at: Date | null;
  acknowledged_by_user_id: number | null;
  acknowledged_by_partner_id: number | null;
  acknowledged_by_name: string | null;
}

export interface IncidentMemberRow {
  incident_id: number;
  instance_id: number;
  source: string;
  started_at: Date;
  ended_at: Date | null;
  partner_name: string | null;
  database_uuid: string;
  description: string | null;
}

export interface IncidentFilter {
  state?: IncidentState;
  instanceId?: number;
  partnerId?: number;
  limit: number;
  offset: number;
}

/** A heartbeat down to open an incident for. */
export interface HeartbeatDown {
  instanceId: number;
  partnerId: number | null;
  cause: 'heartbeat' | 'cron';
}

/** An instance's open incident, as alerts and the watchdog read it. */
export interface OpenIncident {
  instanceId: number;
  incidentId: number;
  acknowledged: boolean;
}

/** What a recovery did to the incident of its instance. */
export interface ClosedMember {
  incidentId: number;
  startedAt: Date;
  /** The incident's own start (a storm's may be before this instance's). */
  incidentStartedAt: Date;
  /** Whether this was its last open instance: the incident is closed now. */
  closed: boolean;
  /** Instances still down in it. */
  remaining: number;
}

const INCIDENT_COLUMNS = `n.id, n.cause, n.probe_id, n.probe_kind, n.partner_id, p.name AS partner_name, n.storm_pass_at,
  n.started_at, n.ended_at, n.acknowledged_at, n.acknowledged_by_user_id, n.acknowledged_by_partner_id,
  n.acknowledged_by_name`;

/** Incidents, their instances, used acknowledge links and escalation steps; every write in the caller's transaction. */
@Injectable()
export class IncidentsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  private m(manager?: EntityManager) {
    return manager ?? this.db.manager;
  }

  /**
   * Closes what is left open of `source` for these instances (an instance suspended while down, then reactivated):
   * one open outage per instance and source at most.
   */
  async closeStale(instanceIds: number[], source: string, now: Date, manager: EntityManager): Promise<void> {
    if (instanceIds.length === 0) return;
    const closed = await manager.query<{ incident_id: number }[]>(
      `WITH closed AS (
         UPDATE dead_mans_switch_incident_instance SET ended_at = $3
         WHERE instance_id = ANY($1::int[]) AND source = $2 AND ended_at IS NULL RETURNING incident_id)
       SELECT DISTINCT incident_id FROM closed`,
      [instanceIds, source, now],
    );
    await this.endIfDone(
      closed.map((c) => c.incident_id),
      now,
      manager,
    );
  }

  /** What an incident of these instances' check-ins needs: their customer, whether a cron expectation decided. */
  async downFacts(instanceIds: number[], manager: EntityManager): Promise<HeartbeatDown[]> {
    return manager.query<HeartbeatDown[]>(
      `SELECT id AS "instanceId", partner_id AS "partnerId",
              CASE WHEN expect_cron IS NOT NULL AND next_in IS NULL THEN 'cron' ELSE 'heartbeat' END AS cause
       FROM dead_mans_switch_instance WHERE id = ANY($1::int[]) ORDER BY id`,
      [instanceIds],
    );
  }

  /** Which of these incidents are open and not acknowledged. */
  async unacknowledged(ids: number[], manager: EntityManager): Promise<number[]> {
    const rows = await manager.query<{ id: number }[]>(
      `SELECT id FROM dead_mans_switch_incident
       WHERE id = ANY($1::int[]) AND ended_at IS NULL AND acknowledged_at IS NULL ORDER BY id`,
      [ids],
    );
    return rows.map((r) => r.id);
  }

  /** One new incident per instance; returns their ids by instance. */
  async openSingles(downs: HeartbeatDown[], now: Date, manager: EntityManager): Promise<Map<number, number>> {
    if (downs.length === 0) return new Map();
    const rows = await manager.query<{ instance_id: number; id: number }[]>(
      `WITH input AS (
         SELECT d.*, nextval('dead_mans_switch_incident_id_seq')::int AS id
         FROM unnest($1::int[], $2::int[], $3::text[]) AS d(instance_id, partner_id, cause)),
       created AS (
         INSERT INTO dead_mans_switch_incident (id, cause, partner_id, started_at)
         SELECT id, cause, partner_id, $4 FROM input),
       members AS (
         INSERT INTO dead_mans_switch_incident_instance (incident_id, instance_id, source, started_at)
         SELECT id, instance_id, '${HEARTBEAT}', $4 FROM input)
       SELECT instance_id, id FROM input`,
      [downs.map((d) => d.instanceId), downs.map((d) => d.partnerId), downs.map((d) => d.cause), now],
    );
    return new Map(rows.map((r) => [r.instance_id, r.id]));
  }

  /**
   * The storm's incident of this pass and customer (created by the first of the pass's transactions to need it),
   * with these instances added. Returns its id.
   */
  async joinStorm(
    passAt: Date,
    partnerId: number | null,
    downs: HeartbeatDown[],
    now: Date,
    manager: EntityManager,
  ): Promise<number> {
    const cause = downs.every((d) => d.cause === 'cron') ? 'cron' : 'heartbeat';
    const [{ id }] = await manager.query<{ id: number }[]>(
      `INSERT INTO dead_mans_switch_incident (cause, partner_id, storm_pass_at, started_at)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (storm_pass_at, coalesce(partner_id, 0)) WHERE storm_pass_at IS NOT NULL
       DO UPDATE SET cause = CASE WHEN dead_mans_switch_incident.cause = 'cron' AND EXCLUDED.cause = 'cron'
                                  THEN 'cron' ELSE 'heartbeat' END
       RETURNING id`,
      [cause, partnerId, passAt, now],
    );
    await manager.query(
      `INSERT INTO dead_mans_switch_incident_instance (incident_id, instance_id, source, started_at)
       SELECT $1, instance_id, '${HEARTBEAT}', $3 FROM unnest($2::int[]) AS d(instance_id)`,
      [id, downs.map((d) => d.instanceId), now],
    );
    return id;
  }

  /** A probe's new incident, with its instance. */
  async openProbe(
    probe: { id: number; kind: string; instanceId: number },
    now: Date,
    manager: EntityManager,
  ): Promise<number> {
    await this.closeStale([probe.instanceId], probeSource(probe.id), now, manager);
    const [{ id }] = await manager.query<{ id: number }[]>(
      `INSERT INTO dead_mans_switch_incident (cause, probe_id, probe_kind, partner_id, started_at)
       SELECT 'probe', $1, $2, i.partner_id, $4 FROM dead_mans_switch_instance i WHERE i.id = $3
       RETURNING id`,
      [probe.id, probe.kind, probe.instanceId, now],
    );
    await manager.query(
      `INSERT INTO dead_mans_switch_incident_instance (incident_id, instance_id, source, started_at)
       VALUES ($1, $2, $3, $4)`,
      [id, probe.instanceId, probeSource(probe.id), now],
    );
    return id;
  }

  /** The open incidents of these instances for `source`. */
  async openOf(instanceIds: number[], source: string, manager?: EntityManager): Promise<OpenIncident[]> {
    if (instanceIds.length === 0) return [];
    return this.m(manager).query<OpenIncident[]>(
      `SELECT ii.instance_id AS "instanceId", n.id AS "incidentId", n.acknowledged_at IS NOT NULL AS acknowledged
       FROM dead_mans_switch_incident_instance ii JOIN dead_mans_switch_incident n ON n.id = ii.incident_id
       WHERE ii.instance_id = ANY($1::int[]) AND ii.source = $2 AND ii.ended_at IS NULL`,
      [instanceIds, source],
    );
  }

  /** Every open incident of an instance (its check-ins' and its probes'). */
  async openOfInstance(instanceId: number): Promise<number[]> {
    const rows = await this.db.query<{ id: number }[]>(
      `SELECT DISTINCT ii.incident_id AS id FROM dead_mans_switch_incident_instance ii
       WHERE ii.instance_id = $1 AND ii.ended_at IS NULL ORDER BY 1`,
      [instanceId],
    );
    return rows.map((r) => r.id);
  }

  /** The instance recovered from `source`: its outage ends, and the incident with its last one. */
  async closeMember(
    instanceId: number,
    source: string,
    now: Date,
    manager: EntityManager,
  ): Promise<ClosedMember | undefined> {
    const [member] = await manager.query<{ incident_id: number; started_at: Date }[]>(
      `WITH closed AS (
         UPDATE dead_mans_switch_incident_instance SET ended_at = $3
         WHERE instance_id = $1 AND source = $2 AND ended_at IS NULL RETURNING incident_id, started_at)
       SELECT incident_id, started_at FROM closed`,
      [instanceId, source, now],
    );
    return member ? this.endMember(member, now, manager) : undefined;
  }

  /**
   * The instance is no longer watched (suspended, cancelled): every outage of it ends, whatever its source, and
   * each incident with its last one. One entry per incident it was in.
   */
  async closeInstance(instanceId: number, now: Date, manager: EntityManager): Promise<ClosedMember[]> {
    const members = await manager.query<{ incident_id: number; started_at: Date }[]>(
      `WITH closed AS (
         UPDATE dead_mans_switch_incident_instance SET ended_at = $2
         WHERE instance_id = $1 AND ended_at IS NULL RETURNING incident_id, started_at)
       SELECT incident_id, min(started_at) AS started_at FROM closed GROUP BY incident_id ORDER BY incident_id`,
      [instanceId, now],
    );
    const closed: ClosedMember[] = [];
    for (const member of members) closed.push(await this.endMember(member, now, manager));
    return closed;
  }

  /** After an instance's outage ended: ends its incident when it was the last one open. */
  private async endMember(
    member: { incident_id: number; started_at: Date },
    now: Date,
    manager: EntityManager,
  ): Promise<ClosedMember> {
    // Locked: of two instances of a storm recovering at once, the second sees the first's end.
    const [incident] = await manager.query<{ started_at: Date }[]>(
      'SELECT started_at FROM dead_mans_switch_incident WHERE id = $1 FOR UPDATE',
      [member.incident_id],
    );
    const [{ n: remaining }] = await manager.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM dead_mans_switch_incident_instance WHERE incident_id = $1 AND ended_at IS NULL`,
      [member.incident_id],
    );
    if (remaining === 0)
      await manager.query('UPDATE dead_mans_switch_incident SET ended_at = $2 WHERE id = $1', [
        member.incident_id,
        now,
      ]);
    return {
      incidentId: member.incident_id,
      startedAt: member.started_at,
      incidentStartedAt: incident.started_at,
      closed: remaining === 0,
      remaining,
    };
  }

  /** Ends the incidents among these that have no open instance left. */
  private async endIfDone(ids: number[], now: Date, manager: EntityManager): Promise<void> {
    if (ids.length === 0) return;
    await manager.query(
      `UPDATE dead_mans_switch_incident n SET ended_at = $2
       WHERE n.id = ANY($1::int[]) AND n.ended_at IS NULL AND NOT EXISTS (
         SELECT 1 FROM dead_mans_switch_incident_instance ii WHERE ii.incident_id = n.id AND ii.ended_at IS NULL)`,
      [ids, now],
    );
  }

  async find(id: number, manager?: EntityManager, lock = false): Promise<IncidentRow | undefined> {
    const rows = await this.m(manager).query<IncidentRow[]>(
      `SELECT ${INCIDENT_COLUMNS} FROM dead_mans_switch_incident n LEFT JOIN partner p ON p.id = n.partner_id
       WHERE n.id = $1 ${lock ? 'FOR UPDATE OF n' : ''}`,
      [id],
    );
    return rows[0];
  }

  /** Incidents matching the filter, open ones first then newest first, and how many match. */
  async list(filter: IncidentFilter): Promise<{ items: IncidentRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.state === 'open') where.push('n.ended_at IS NULL');
    if (filter.state === 'closed') where.push('n.ended_at IS NOT NULL');
    if (filter.instanceId !== undefined)
      where.push(`EXISTS (SELECT 1 FROM dead_mans_switch_incident_instance ii
                  WHERE ii.incident_id = n.id AND ii.instance_id = ${param(filter.instanceId)})`);
    if (filter.partnerId !== undefined) where.push(`n.partner_id = ${param(filter.partnerId)}`);
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }] = await this.db.query<{ total: number }[]>(
      `SELECT count(*)::int AS total FROM dead_mans_switch_incident n ${whereSql}`,
      params,
    );
    const items = await this.db.query<IncidentRow[]>(
      `SELECT ${INCIDENT_COLUMNS} FROM dead_mans_switch_incident n LEFT JOIN partner p ON p.id = n.partner_id
       ${whereSql}
       ORDER BY (n.ended_at IS NULL) DESC, n.started_at DESC, n.id DESC
       LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
      params,
    );
    return { items, total };
  }

  /** The instances of these incidents, by incident. */
  async members(incidentIds: number[], manager?: EntityManager): Promise<Map<number, IncidentMemberRow[]>> {
    const byIncident = new Map<number, IncidentMemberRow[]>();
    if (incidentIds.length === 0) return byIncident;
    const rows = await this.m(manager).query<IncidentMemberRow[]>(
      `SELECT ii.incident_id, ii.instance_id, ii.source, ii.started_at, ii.ended_at, ${DISPLAY_NAME_COLUMNS}
       FROM dead_mans_switch_incident_instance ii
       JOIN dead_mans_switch_instance i ON i.id = ii.instance_id LEFT JOIN partner p ON p.id = i.partner_id
       WHERE ii.incident_id = ANY($1::int[]) ORDER BY ii.incident_id, ii.instance_id`,
      [incidentIds],
    );
    for (const row of rows)
      byIncident.set(row.incident_id, [...(byIncident.get(row.incident_id) ?? []), row]);
    return byIncident;
  }

  /** Acknowledges an open, unacknowledged incident; false when it was not (any more). */
  async acknowledge(
    id: number,
    by: { userId: number | null; partnerId: number | null; name: string },
    now: Date,
    manager: EntityManager,
  ): Promise<boolean> {
    const rows = await manager.query<{ id: number }[]>(
      `WITH acked AS (
         UPDATE dead_mans_switch_incident SET acknowledged_at = $2, acknowledged_by_user_id = $3,
           acknowledged_by_partner_id = $4, acknowledged_by_name = $5
         WHERE id = $1 AND ended_at IS NULL AND acknowledged_at IS NULL RETURNING id)
       SELECT id FROM acked`,
      [id, now, by.userId, by.partnerId, by.name],
    );
    return rows.length > 0;
  }

  /** Records an acknowledge link's use; false when it was used before. */
  async useAckLink(
    link: { incidentId: number; partnerId: number; expiresAt: Date },
    now: Date,
    manager: EntityManager,
  ): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `INSERT INTO dead_mans_switch_incident_ack_link (incident_id, partner_id, expires_at, used_at)
       VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
      [link.incidentId, link.partnerId, link.expiresAt, now],
    );
    return rows.length > 0;
  }

  async ackLinkUsed(link: { incidentId: number; partnerId: number; expiresAt: Date }): Promise<boolean> {
    const rows = await this.db.query<unknown[]>(
      `SELECT 1 FROM dead_mans_switch_incident_ack_link WHERE incident_id = $1 AND partner_id = $2 AND expires_at = $3`,
      [link.incidentId, link.partnerId, link.expiresAt],
    );
    return rows.length > 0;
  }

  /** A partner's name (the recipient of an acknowledge link). */
  async partnerName(partnerId: number, manager?: EntityManager): Promise<string | undefined> {
    const rows = await this.m(manager).query<{ name: string }[]>('SELECT name FROM partner WHERE id = $1', [
      partnerId,
    ]);
    return rows[0]?.name;
  }
}
