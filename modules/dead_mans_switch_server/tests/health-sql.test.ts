import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { emptyCheckIn } from '../checkin/alive-payload.js';
import { quickCheckInQuery } from '../checkin/checkin.repository.js';
import {
  cronDecides,
  deadlineAfter,
  deadlineAfterSql,
  delayDecidesSql,
  delayInForceSql,
  gapGrace,
  gapGraceSql,
  healthOf,
  healthSql,
  isDue,
  isDueSql,
  recovers,
  recoversSql,
  reminderDeadline,
  reminderDeadlineSql,
  statusOf,
  statusSql,
  type HealthFacts,
} from '../health/instance-health.js';

const NOW = new Date('2025-04-01T08:00:00.000Z');
const GAP_START = new Date(NOW.getTime() - 3_600_000);
const at = (seconds: number | null) => (seconds === null ? null : new Date(NOW.getTime() + seconds * 1000));

interface Row {
  id: number;
  database_uuid: string;
  state: HealthFacts['state'];
  alert_state: HealthFacts['alertState'];
  alive_max_delay: number;
  next_in: number | null;
  last_seen: Date | null;
  next_deadline: Date | null;
  last_alert_at: Date | null;
  expect_cron: string | null;
  expect_time_zone: string | null;
  expect_grace: number;
}

const facts = (r: Row): HealthFacts => ({
  state: r.state,
  alertState: r.alert_state,
  aliveMaxDelay: r.alive_max_delay,
  nextIn: r.next_in,
  lastSeen: r.last_seen,
  nextDeadline: r.next_deadline,
  lastAlertAt: r.last_alert_at,
  expectCron: r.expect_cron,
  expectTimeZone: r.expect_time_zone,
  expectGrace: r.expect_grace,
});

/** Every combination of what decides health, with the boundaries of each comparison (equal, one second off). */
function cases(): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const state of ['active', 'new', 'suspended'])
    for (const alertState of ['ok', 'down'])
      for (const nextIn of [null, 120])
        for (const cron of [false, true])
          for (const seenAgo of [null, 0, 119, 120, 599, 600, 1199, 1200, 5000])
            for (const deadlineIn of [null, -3601, -3600, -1, 0, 1, 239, 240, 1200, 1800, 1801, 5000])
              rows.push({
                state,
                alert_state: alertState,
                alive_max_delay: 600,
                next_in: nextIn,
                last_seen: at(seenAgo === null ? null : -seenAgo),
                next_deadline: at(deadlineIn),
                last_alert_at: alertState === 'down' ? at(-100) : null,
                expect_cron: cron ? '0 2 * * *' : null,
                expect_time_zone: cron ? 'Europe/Brussels' : null,
                expect_grace: 1800,
              });
  return rows;
}

const time = (date: Date | null) => date?.toISOString() ?? null;

describe('health rules: TypeScript and SQL agree on every case, on PostgreSQL', () => {
  let db: string;
  let client: pg.Client;
  let rows: Row[];

  before(async () => {
    db = await cloneTemplate();
    client = new pg.Client({ connectionString: db });
    await client.connect();
    await client.query(
      `INSERT INTO dead_mans_switch_instance (database_uuid, state, alert_state, alive_max_delay, next_in, last_seen,
         next_deadline, last_alert_at, expect_cron, expect_time_zone, expect_grace)
       SELECT gen_random_uuid(), state, alert_state, alive_max_delay, next_in, last_seen, next_deadline,
         last_alert_at, expect_cron, expect_time_zone, expect_grace
       FROM jsonb_to_recordset($1::jsonb) AS c(state text, alert_state text, alive_max_delay int, next_in int,
         last_seen timestamptz, next_deadline timestamptz, last_alert_at timestamptz, expect_cron text,
         expect_time_zone text, expect_grace int)`,
      [JSON.stringify(cases())],
    );
    rows = (
      await client.query<Row>(
        `SELECT id, database_uuid, state, alert_state, alive_max_delay, next_in, last_seen, next_deadline,
           last_alert_at, expect_cron, expect_time_zone, expect_grace
         FROM dead_mans_switch_instance ORDER BY id`,
      )
    ).rows;
    assert.equal(rows.length, cases().length);
  });

  after(async () => {
    await client?.end();
    if (db) await dropDatabase(db);
  });

  it('health, due, recovery, reminder, delay deadline, gap grace and which path decides the deadline', async () => {
    const grace = gapGraceSql('$2::timestamptz', '$1::timestamptz', 'i.');
    const { rows: computed } = await client.query<{
      id: number;
      health: string | null;
      status: string;
      due: boolean;
      recovers: boolean;
      reminder: Date;
      deadline: Date;
      graced: Date | null;
      delay_decides: boolean;
    }>(
      `SELECT i.id, ${healthSql('i', '$1::timestamptz')} AS health, ${statusSql('i', '$1::timestamptz')} AS status,
         coalesce(${isDueSql('$1::timestamptz', 'i.')}, false) AS due,
         ${recoversSql('i.')} AS recovers,
         ${reminderDeadlineSql('$1::timestamptz', 'i.')} AS reminder,
         ${deadlineAfterSql('$1::timestamptz', delayInForceSql('i.'))} AS deadline,
         CASE WHEN ${grace.where} THEN ${grace.deadline} END AS graced,
         ${delayDecidesSql('i.')} AS delay_decides
       FROM dead_mans_switch_instance i ORDER BY i.id`,
      [NOW, GAP_START],
    );
    const healths = new Set<string | null>();
    let graced = 0;
    for (const [index, sql] of computed.entries()) {
      const row = rows[index];
      const f = facts(row);
      const label = JSON.stringify(row);
      assert.equal(sql.id, row.id);
      assert.equal(sql.health, healthOf(f, NOW), `health of ${label}`);
      assert.equal(sql.status, statusOf({ health: healthOf(f, NOW), state: f.state }), `status of ${label}`);
      assert.equal(sql.due, isDue(f, NOW), `due: ${label}`);
      assert.equal(sql.recovers, recovers(f), `recovers: ${label}`);
      assert.equal(time(sql.reminder), time(reminderDeadline(f, NOW)), `reminder: ${label}`);
      const byDelay = deadlineAfter({ ...f, expectCron: null, expectTimeZone: null }, NOW);
      assert.equal(time(sql.deadline), time(byDelay), `deadline: ${label}`);
      assert.equal(time(sql.graced), time(gapGrace(f, GAP_START, NOW)), `gap grace: ${label}`);
      assert.equal(sql.delay_decides, !cronDecides(f), `delay decides: ${label}`);
      healths.add(sql.health);
      if (sql.graced) graced++;
    }
    // The table reaches every outcome.
    assert.deepEqual([...healths].sort(), ['down', 'late', 'up', null].sort());
    assert.ok(graced > 0);
  });

  it("the check-in statement takes a row exactly when the delay decides and it does not recover, with deadlineAfter's deadline", async () => {
    const receivedAt = new Date(NOW.getTime() + 10_000);
    let quick = 0;
    for (const [index, row] of rows.entries()) {
      const checkIn = { ...emptyCheckIn(row.database_uuid), nextIn: index % 2 ? 120 : null };
      const sent = { ...facts(row), nextIn: checkIn.nextIn };
      const { rows: taken } = await client.query(quickCheckInQuery(checkIn, receivedAt));
      const expected = !recovers(sent) && !cronDecides(sent);
      assert.equal(
        taken.length,
        expected ? 1 : 0,
        `quick path for ${JSON.stringify(row)}, next_in ${checkIn.nextIn}`,
      );
      if (!expected) continue;
      quick++;
      const {
        rows: [stored],
      } = await client.query<{ next_deadline: Date }>(
        'SELECT next_deadline FROM dead_mans_switch_instance WHERE id = $1',
        [row.id],
      );
      assert.equal(time(stored.next_deadline), time(deadlineAfter(sent, receivedAt)));
    }
    assert.ok(quick > 0 && quick < rows.length);
  });
});
