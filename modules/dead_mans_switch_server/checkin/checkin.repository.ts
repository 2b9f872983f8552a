import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { Database } from '../../../src/index.js';
import {
  deadlineAfterSql,
  delayDecidesSql,
  delayInForceSql,
  recovers,
  recoversSql,
} from '../health/instance-health.js';
import { DEFAULT_DELAY, type InstanceState } from '../instance.entity.js';
import type { CheckIn } from './alive-payload.js';

// One subscriber gets a whole IPv6 /64, so the registration cap counts /64s (and single IPv4 addresses).
const SOURCE_BLOCK = `network(set_masklen($1::inet, CASE family($1::inet) WHEN 6 THEN 64 ELSE 32 END))`;

/**
 * The source a check-in is compared by, from an inet parameter: the IPv4 address, or the IPv6 /64 (one subscriber's
 * privacy addresses rotate within it). Null for a source that is not an address.
 */
export const sourceKeySql = (param: string) =>
  `CASE family(${param}::inet) WHEN 6 THEN network(set_masklen(${param}::inet, 64))::text ELSE host(${param}::inet) END`;

export interface CheckedIn {
  id: number;
  state: InstanceState;
}

/** An instance found by uuid, with the hash of its check-in token (null: none). */
export interface KnownInstance extends CheckedIn {
  checkin_token_hash: Buffer | null;
}

export interface LockedInstance extends KnownInstance {
  alert_state: 'ok' | 'down';
  expect_cron: string | null;
  expect_time_zone: string | null;
  expect_grace: number;
  /** Where the check-ins came from (see `sourceKeySql`), and the source compared now. */
  last_source: string | null;
  previous_source: string | null;
  source_changed_at: Date | null;
  possible_copy_since: Date | null;
  source_key: string | null;
  /** The ancestor that suppressed its outage (dependencies): its recovery tells no one. */
  suppressed_by_id: number | null;
  /** The job run in progress (job-run timing): this check-in finishes it. */
  run_started_at: Date | null;
}

// $1 uuid, $2 received at, $3..$11 the statistics, $12 next_in: the parameters every statement below shares.
const statistics = (c: CheckIn, receivedAt: Date) => [
  c.databaseUuid,
  receivedAt,
  c.cpu,
  c.ram,
  c.userCount,
  c.dbSize,
  c.diskFree,
  c.diskTotal,
  c.lastBackupAt,
  c.version,
  c.uptime,
  c.nextIn,
];

/** The deadline of a check-in (`health/instance-health.ts`), `next_in` being $12: when the delay decides. */
const DELAY_DEADLINE = deadlineAfterSql('$2::timestamptz', delayInForceSql('', '$12::integer'));
/** The same, but $16 when not null: the deadline `cronDeadline` computed. */
const DEADLINE = deadlineAfterSql('$2::timestamptz', delayInForceSql('', '$12::integer'), '$16::timestamptz');

// The last statistics: cpu, ram and users as sent (null included); the optional ones keep their last value.
const setLast = (
  deadline = DELAY_DEADLINE,
) => `last_seen = $2::timestamptz, last_cpu = $3::double precision, last_ram = $4::double precision,
  last_user_count = $5::integer, last_db_size = coalesce($6::bigint, last_db_size),
  last_disk_free = coalesce($7::bigint, last_disk_free), last_disk_total = coalesce($8::bigint, last_disk_total),
  last_backup_at = coalesce($9::timestamptz, last_backup_at), last_version = coalesce($10::text, last_version),
  last_uptime = coalesce($11::bigint, last_uptime), next_in = $12::integer, next_deadline = ${deadline}`;

const INSERT_LOG = `INSERT INTO dead_mans_switch_log
  (instance_id, received_at, cpu, ram, user_count, db_size, disk_free, disk_total, last_backup_at, version, uptime)`;
const LOG_VALUES = `$2::timestamptz, $3::double precision, $4::double precision, $5::integer, $6::bigint,
  $7::bigint, $8::bigint, $9::timestamptz, $10::text, $11::bigint`;

/**
 * The common case of a check-in as one named statement: a known instance that is not down moves its deadline,
 * keeps its statistics and gets its log row. Returns no row for an unknown uuid, a down instance or one with a
 * cron expectation without `next_in` (croner computes its deadline), one with a check-in token (the full
 * transaction checks it) or a job run in progress (the full transaction times it). Exported for the benchmark's reference server, which runs exactly this statement.
 */
export function quickCheckInQuery(
  checkIn: CheckIn,
  receivedAt: Date,
  source: string | null = null,
): pg.QueryConfig {
  return {
    name: 'dead_mans_switch_quick_checkin',
    values: [...statistics(checkIn, receivedAt), source],
    // A check-in from another source than the last one takes the full transaction (clone detection).
    text: `WITH checked AS (
       UPDATE dead_mans_switch_instance SET ${setLast()}
       WHERE database_uuid = $1::uuid AND NOT ${recoversSql()} AND ${delayDecidesSql('', '$12::integer')}
         AND checkin_token_hash IS NULL AND run_started_at IS NULL
         AND ($13::inet IS NULL OR last_source IS NOT DISTINCT FROM ${sourceKeySql('$13')})
       RETURNING id, state)
     , logged AS (${INSERT_LOG} SELECT id, ${LOG_VALUES} FROM checked)
     SELECT id, state FROM checked`,
  };
}

@Injectable()
export class CheckInRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(Database) private readonly database: Database,
  ) {}

  /**
   * The common case in one statement (one implicit transaction, committed when it returns): a known instance
   * that is not down moves its deadline, keeps its statistics and gets its log row. Returns nothing for an
   * unknown uuid, a down instance, one with a cron expectation (its deadline is computed by croner), with a
   * check-in token (compared in constant time by the caller) or with a job run in progress (its duration is
   * checked), whose check-in needs the full transaction.
   */
  async quickCheckIn(
    checkIn: CheckIn,
    receivedAt: Date,
    source: string | null,
  ): Promise<CheckedIn | undefined> {
    // A named (prepared) statement: no parse and plan per call on the server.
    const rows = await this.database.queryNamed<CheckedIn>(quickCheckInQuery(checkIn, receivedAt, source));
    return rows[0];
  }

  async findByUuid(uuid: string): Promise<KnownInstance | undefined> {
    const rows = await this.db.query<KnownInstance[]>(
      'SELECT id, state, checkin_token_hash FROM dead_mans_switch_instance WHERE database_uuid = $1',
      [uuid],
    );
    return rows[0];
  }

  /** `source`: the check-in's address (null when not one), compared as `source_key`. */
  async lockByUuid(
    uuid: string,
    manager: EntityManager,
    source: string | null = null,
  ): Promise<LockedInstance | undefined> {
    const rows = await manager.query<LockedInstance[]>(
      `SELECT id, state, alert_state, expect_cron, expect_time_zone, expect_grace, checkin_token_hash,
         last_source, previous_source, source_changed_at, possible_copy_since, ${sourceKeySql('$2')} AS source_key,
         suppressed_by_id, run_started_at
       FROM dead_mans_switch_instance WHERE database_uuid = $1 FOR UPDATE`,
      [uuid, source],
    );
    return rows[0];
  }

  /**
   * The locked instance's check-ins now come from `key`: the last source becomes the previous one. `copy`: the two
   * sources seen interleaving, flagged from now on (only when not flagged already).
   */
  async moveSource(
    id: number,
    key: string,
    at: Date,
    copy: [string, string] | null,
    manager: EntityManager,
  ): Promise<void> {
    await manager.query(
      `UPDATE dead_mans_switch_instance SET previous_source = last_source, last_source = $2,
         source_changed_at = $3,
         possible_copy_since = CASE WHEN $4::text[] IS NULL THEN possible_copy_since ELSE $3 END,
         possible_copy_sources = coalesce($4::text[], possible_copy_sources)
       WHERE id = $1`,
      [id, key, at, copy],
    );
  }

  /**
   * Stores a check-in of a locked instance. A down active instance is back: the compare-and-set to `ok` is
   * part of the same update, guarded by what the caller read under the lock. `deadline`: the one a cron
   * expectation gives, instead of the delay's. Returns whether it recovered.
   */
  async checkInLocked(
    checkIn: CheckIn,
    receivedAt: Date,
    read: LockedInstance,
    deadline: Date | null,
    manager: EntityManager,
  ): Promise<boolean> {
    const recovering = recovers({ state: read.state, alertState: read.alert_state });
    const updated = await manager.query<unknown[]>(
      // In a CTE: TypeORM returns [rows, count] for a bare UPDATE ... RETURNING.
      `WITH checked AS (
         UPDATE dead_mans_switch_instance SET ${setLast(DEADLINE)}
           ${recovering ? `, alert_state = 'ok', suppressed_by_id = NULL, suppressed_at = NULL` : ''}
         WHERE database_uuid = $1::uuid AND id = $13 AND state = $14 AND alert_state = $15
         RETURNING id)
       SELECT id FROM checked`,
      [...statistics(checkIn, receivedAt), read.id, read.state, read.alert_state, deadline],
    );
    if (updated.length !== 1) throw new Error(`Instance ${read.id} changed under its lock`);
    await this.insertLog(read.id, checkIn, receivedAt, manager);
    return recovering;
  }

  /**
   * Serializes the registrations of one source block (an IPv4 address, an IPv6 /64) across replicas, until
   * the transaction ends; `address` is null when the source is not an IP address.
   */
  async lockSource(source: string, address: string | null, manager: EntityManager): Promise<void> {
    await manager.query(
      `SELECT pg_advisory_xact_lock(hashtextextended('dms-registration:' || coalesce(${SOURCE_BLOCK}::text, $2), 0))`,
      [address, source],
    );
  }

  /** Registrations since `since` from the block of `source` (an IPv6 /64 is one source: one subscriber). */
  async registrationsSince(source: string | null, since: Date, manager: EntityManager): Promise<number> {
    const [{ count }] = await manager.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM dead_mans_switch_instance
       WHERE (CASE WHEN $1::inet IS NULL THEN registered_from IS NULL ELSE registered_from <<= ${SOURCE_BLOCK} END)
         AND created_at >= $2`,
      [source, since],
    );
    return count;
  }

  /**
   * Serializes all registrations across replicas until the transaction ends, so that the global cap counts what
   * the others committed. Taken after the source's lock (always in that order: no deadlock); registrations are
   * rare next to check-ins, which never take it.
   */
  async lockAllSources(manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('dms-registration:*', 0))`);
  }

  /** Registrations since `since`, all sources together (instances are only created by registration). */
  async allRegistrationsSince(since: Date, manager: EntityManager): Promise<number> {
    const [{ count }] = await manager.query<{ count: number }[]>(
      'SELECT count(*)::int AS count FROM dead_mans_switch_instance WHERE created_at >= $1',
      [since],
    );
    return count;
  }

  /** Registers an unknown uuid in state `new`; undefined when another request registered it meanwhile. */
  async register(
    checkIn: CheckIn,
    receivedAt: Date,
    source: string | null,
    manager: EntityManager,
  ): Promise<CheckedIn | undefined> {
    const rows = await manager.query<CheckedIn[]>(
      `INSERT INTO dead_mans_switch_instance (database_uuid, state, last_seen, last_cpu, last_ram, last_user_count,
         last_db_size, last_disk_free, last_disk_total, last_backup_at, last_version, last_uptime, next_in,
         next_deadline, registered_from, last_source, created_at, updated_at)
       VALUES ($1::uuid, 'new', ${LOG_VALUES}, $12::integer,
         ${deadlineAfterSql('$2::timestamptz', `coalesce($12::integer, ${DEFAULT_DELAY})`)}, $13::inet,
         ${sourceKeySql('$13')}, $2, $2)
       ON CONFLICT (database_uuid) DO NOTHING
       RETURNING id, state`,
      [...statistics(checkIn, receivedAt), source],
    );
    if (rows[0]) await this.insertLog(rows[0].id, checkIn, receivedAt, manager);
    return rows[0];
  }

  private async insertLog(id: number, checkIn: CheckIn, receivedAt: Date, manager: EntityManager) {
    // Same numbering as the other statements, with the instance id in place of the uuid.
    await manager.query(`${INSERT_LOG} VALUES ($1, ${LOG_VALUES})`, [
      id,
      ...statistics(checkIn, receivedAt).slice(1, 11),
    ]);
  }
}
