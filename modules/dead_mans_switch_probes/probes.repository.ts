import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { ProbeKind, ProbeOutcome, ProbeRow, ProbeState, ProbeTarget } from './probe.types.js';

export interface NewProbe {
  instanceId: number;
  name: string;
  kind: ProbeKind;
  active: boolean;
  intervalSeconds: number;
  timeoutSeconds: number;
  target: ProbeTarget;
  secretEnv: string | null;
  secretEncrypted: string | null;
}

export interface ProbeResultRow {
  id: string;
  probe_id: number;
  checked_at: Date;
  ok: boolean;
  latency_ms: number;
  detail: string;
  missing_processes: string[];
}

/** The state a run leaves its probe in, written in the run's transaction. */
export interface ProbeUpdate {
  state: ProbeState;
  consecutiveFailures: number;
  nextRunAt: Date;
}

const COLUMNS = `id, instance_id, name, kind, active, interval_seconds, timeout_seconds, target, secret_env,
  secret_encrypted, next_run_at, state, consecutive_failures, last_run_at, last_ok, last_detail, created_at,
  updated_at`;

@Injectable()
export class ProbesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async instanceExists(id: number): Promise<boolean> {
    const rows = await this.db.query<unknown[]>('SELECT 1 FROM dead_mans_switch_instance WHERE id = $1', [
      id,
    ]);
    return rows.length > 0;
  }

  async insert(probe: NewProbe, now: Date): Promise<ProbeRow> {
    const [row] = await this.db.query<ProbeRow[]>(
      `INSERT INTO dead_mans_switch_probe (instance_id, name, kind, active, interval_seconds, timeout_seconds,
         target, secret_env, secret_encrypted, next_run_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) RETURNING ${COLUMNS}`,
      [
        probe.instanceId,
        probe.name,
        probe.kind,
        probe.active,
        probe.intervalSeconds,
        probe.timeoutSeconds,
        JSON.stringify(probe.target),
        probe.secretEnv,
        probe.secretEncrypted,
        now,
      ],
    );
    return row;
  }

  /** Writes an edited probe; a changed interval or target makes it due now. */
  async update(probe: ProbeRow, now: Date): Promise<void> {
    await this.db.query(
      `UPDATE dead_mans_switch_probe SET name = $2, active = $3, interval_seconds = $4, timeout_seconds = $5,
         target = $6, secret_env = $7, secret_encrypted = $8, next_run_at = $9, updated_at = $9
       WHERE id = $1`,
      [
        probe.id,
        probe.name,
        probe.active,
        probe.interval_seconds,
        probe.timeout_seconds,
        JSON.stringify(probe.target),
        probe.secret_env,
        probe.secret_encrypted,
        now,
      ],
    );
  }

  async delete(id: number): Promise<boolean> {
    const rows = await this.db.query<unknown[]>(
      'WITH gone AS (DELETE FROM dead_mans_switch_probe WHERE id = $1 RETURNING 1) SELECT * FROM gone',
      [id],
    );
    return rows.length > 0;
  }

  /** How many active probes of the instance are down (what the server's dependencies read as `probes_down`). */
  async countDown(instanceId: number, manager: EntityManager): Promise<number> {
    const [{ count }] = await manager.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM dead_mans_switch_probe WHERE instance_id = $1 AND active AND state = 'down'`,
      [instanceId],
    );
    return count;
  }

  /**
   * Probes of instances no longer watched (suspended, cancelled) that still hold a state: back to `unknown`, their
   * failures forgotten. Returns the instances touched.
   */
  async forgetUnwatched(manager: EntityManager): Promise<number[]> {
    const [rows] = await manager.query<[{ instance_id: number }[], number]>(
      `UPDATE dead_mans_switch_probe p SET state = 'unknown', consecutive_failures = 0
         FROM dead_mans_switch_instance i
        WHERE i.id = p.instance_id AND i.state <> 'active' AND (p.state <> 'unknown' OR p.consecutive_failures > 0)
        RETURNING p.instance_id`,
    );
    return [...new Set(rows.map((row) => row.instance_id))];
  }

  async find(id: number, manager?: EntityManager): Promise<ProbeRow | undefined> {
    const [row] = await (manager ?? this.db.manager).query<ProbeRow[]>(
      `SELECT ${COLUMNS} FROM dead_mans_switch_probe WHERE id = $1`,
      [id],
    );
    return row;
  }

  /**
   * Locks one probe to record a run's result, as it stands now (its state may have moved since the run began). With
   * `worker`, only while that worker's claim on it stands: undefined when the claim lapsed and another took it over.
   */
  async lockForRecord(
    id: number,
    worker: string | null,
    manager: EntityManager,
  ): Promise<ProbeRow | undefined> {
    const [row] = await manager.query<ProbeRow[]>(
      `SELECT ${COLUMNS} FROM dead_mans_switch_probe WHERE id = $1 AND ($2::text IS NULL OR claimed_by = $2)
       FOR UPDATE`,
      [id, worker],
    );
    return row;
  }

  listByInstance(instanceId: number): Promise<ProbeRow[]> {
    return this.db.query<ProbeRow[]>(
      `SELECT ${COLUMNS} FROM dead_mans_switch_probe WHERE instance_id = $1 ORDER BY id`,
      [instanceId],
    );
  }

  /**
   * Claims one due probe of an active instance for `worker` until the database's now() + `leaseSeconds`, through
   * the partial index. Probes another worker holds a live claim on are skipped, and so are `excluded` ones (whose
   * run failed earlier in this pass); a claim whose lease passed (its worker died) is taken over. The claim
   * outlives the transaction: the caller commits it, runs the probe with no connection held, and records the
   * result in another transaction.
   */
  async claimDue(
    now: Date,
    excluded: number[],
    worker: string,
    leaseSeconds: number,
    manager: EntityManager,
  ): Promise<ProbeRow | undefined> {
    const [rows] = await manager.query<[ProbeRow[], number]>(
      `UPDATE dead_mans_switch_probe SET claimed_by = $3, claimed_until = now() + make_interval(secs => $4)
       WHERE id = (
         SELECT p.id FROM dead_mans_switch_probe p
         WHERE p.active AND p.next_run_at <= $1 AND p.id <> ALL($2::int[])
           AND (p.claimed_until IS NULL OR p.claimed_until < now())
           AND EXISTS (SELECT 1 FROM dead_mans_switch_instance i WHERE i.id = p.instance_id AND i.state = 'active')
         ORDER BY p.next_run_at
         LIMIT 1
         FOR UPDATE OF p SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [now, excluded, worker, leaseSeconds],
    );
    return rows[0];
  }

  /** Stores a run's result and the probe's new state; `release` ends the run's claim on the probe. */
  async record(
    probe: ProbeRow,
    outcome: ProbeOutcome,
    at: Date,
    update: ProbeUpdate,
    release: boolean,
    manager: EntityManager,
  ): Promise<ProbeResultRow> {
    const [result] = await manager.query<ProbeResultRow[]>(
      `INSERT INTO dead_mans_switch_probe_result (probe_id, checked_at, ok, latency_ms, detail, missing_processes)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [probe.id, at, outcome.ok, outcome.latencyMs, outcome.detail, outcome.missingProcesses],
    );
    await manager.query(
      `UPDATE dead_mans_switch_probe SET state = $2, consecutive_failures = $3, next_run_at = $4, last_run_at = $5,
         last_ok = $6, last_detail = $7,
         claimed_by = CASE WHEN $8::boolean THEN NULL ELSE claimed_by END,
         claimed_until = CASE WHEN $8::boolean THEN NULL ELSE claimed_until END
       WHERE id = $1`,
      [
        probe.id,
        update.state,
        update.consecutiveFailures,
        update.nextRunAt,
        at,
        outcome.ok,
        outcome.detail,
        release,
      ],
    );
    return result;
  }

  async results(
    probeId: number,
    limit: number,
    offset: number,
  ): Promise<{ items: ProbeResultRow[]; total: number }> {
    const items = await this.db.query<ProbeResultRow[]>(
      `SELECT * FROM dead_mans_switch_probe_result WHERE probe_id = $1
       ORDER BY checked_at DESC, id DESC LIMIT $2 OFFSET $3`,
      [probeId, limit, offset],
    );
    const [{ total }] = await this.db.query<{ total: number }[]>(
      'SELECT count(*)::int AS total FROM dead_mans_switch_probe_result WHERE probe_id = $1',
      [probeId],
    );
    return { items, total };
  }

  /** How many probes of each instance are up and down (instances without probes are left out). */
  async summaries(instanceIds: number[]): Promise<Map<number, { total: number; up: number; down: number }>> {
    if (instanceIds.length === 0) return new Map();
    const rows = await this.db.query<{ instance_id: number; total: number; up: number; down: number }[]>(
      `SELECT instance_id, count(*)::int AS total,
              count(*) FILTER (WHERE state = 'up')::int AS up, count(*) FILTER (WHERE state = 'down')::int AS down
       FROM dead_mans_switch_probe WHERE instance_id = ANY($1) AND active GROUP BY instance_id`,
      [instanceIds],
    );
    return new Map(rows.map((r) => [r.instance_id, { total: r.total, up: r.up, down: r.down }]));
  }

  /** Deletes results older than `before`, `batch` rows per statement; returns how many. */
  async deleteResultsBefore(before: Date, batch: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ count }] = await this.db.query<{ count: number }[]>(
        `WITH deleted AS (
           DELETE FROM dead_mans_switch_probe_result WHERE id IN (
             SELECT id FROM dead_mans_switch_probe_result WHERE checked_at < $1 LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS count FROM deleted`,
        [before, batch],
      );
      total += count;
      if (count < batch) return total;
    }
  }
}
