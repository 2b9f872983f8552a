import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/database/embedded-database.js';
import { query } from '../harness/database.js';
import { freePort, spawnVigil, waitForHttp, type VigilProcess } from '../harness/process.js';

interface Reply {
  phase: 'before' | 'outage' | 'after';
  status: number;
  retryAfter: string | null;
  ms: number;
  uuid: string;
}

const INSTANCES = 200;
/** Longer than the watchdog gap threshold set below, as a real outage of a minute would be. */
const OUTAGE_MS = 50_000;
const GAP_SECONDS = 45;
/** Active instances with a 5 s delay: their deadlines pass during the outage, through no fault of theirs. */
const WATCHED = 10;

describe('a database outage under a steady check-in load', () => {
  let dataDir: string;
  let database: EmbeddedDatabase | undefined;
  let server: VigilProcess | undefined;
  let url: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-db-outage-'));
    database = await startEmbeddedDatabase({ dataDir, database: 'vigil_db_outage' });
  });

  after(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    await database?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while it lasts, keeps running, and resumes without a restart', async () => {
    const databaseUrl = database!.url;
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawnVigil({
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DATA_DIR: join(dataDir, 'vigil'),
      SESSION_SECRET: 'outage-test-secret-long-enough-for-hs256',
      ADMIN_EMAIL: 'admin@vigil.test',
      ADMIN_PASSWORD: 'admin-password-1',
    });
    await waitForHttp(`${url}/monitoring/ready`, server);
    // One load generator on 127.0.0.1 stands for many clients: lift the per-source limits.
    await query(databaseUrl, "UPDATE setting SET value = '1000' WHERE key = $1", [
      'dead_mans_switch.max_registrations_per_hour',
    ]);
    await query(databaseUrl, "UPDATE setting SET value = '1000' WHERE key = $1", [
      'dead_mans_switch.max_registrations_global_per_hour',
    ]);
    await query(databaseUrl, "UPDATE setting SET value = '0' WHERE key = $1", [
      'dead_mans_switch.checkins_per_source_per_minute',
    ]);
    await query(databaseUrl, 'UPDATE setting SET value = $2 WHERE key = $1', [
      'dead_mans_switch.watchdog_gap_seconds',
      String(GAP_SECONDS),
    ]);
    const uuids = Array.from({ length: INSTANCES }, () => randomUUID());
    for (const uuid of uuids) assert.equal((await checkIn(uuid)).status, 200);
    const watched = uuids.slice(0, WATCHED);
    // Activated here rather than through the API, whose floor for the delay is a minute.
    await query(
      databaseUrl,
      `UPDATE dead_mans_switch_instance SET state = 'active', alive_max_delay = 5, alert_state = 'ok',
         next_deadline = now() + interval '10 seconds'
       WHERE database_uuid = ANY($1::uuid[])`,
      [watched],
    );

    // Four clients check in steadily, round-robin over the instances, while the test takes the database away;
    // the watched instances check in every 2.5 s on their own, except while `watchedPaused`.
    let phase: Reply['phase'] = 'before';
    let running = true;
    let watchedPaused = false;
    const replies: Reply[] = [];
    let next = 0;
    const record = async (uuid: string) => {
      const started = Date.now();
      const response = await checkIn(uuid);
      replies.push({
        phase,
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        ms: Date.now() - started,
        uuid,
      });
    };
    const client = async () => {
      while (running) {
        await record(uuids[WATCHED + (next++ % (INSTANCES - WATCHED))]);
        // At most ~40 check-ins a second over 190 instances: far below the 30 a minute each uuid may send.
        await delay(100);
      }
    };
    const watcher = async () => {
      while (running) {
        if (!watchedPaused) await Promise.all(watched.map(record));
        // Every 2.5 s: 24 a minute, under the per-uuid limit of 30, and well within their 10 s deadline.
        await delay(2500);
      }
    };
    const load = Promise.all([client(), client(), client(), client(), watcher()]);

    // The watchdog (every 30 s) has run at least once before the outage: the gap is measured from its last pass.
    const started = Date.now();
    while (
      (await query<{ n: number }>(databaseUrl, 'SELECT count(*)::int AS n FROM dead_mans_switch_watchdog'))[0]
        .n === 0
    ) {
      assert.ok(Date.now() - started < 45_000, 'no watchdog pass within 45 s of the start');
      await delay(250);
    }
    await delay(2000);
    const port5432 = database!.port;
    await database!.stop({ immediate: true });
    database = undefined;
    phase = 'outage';
    await delay(2000);
    const readyDuringOutage = await fetch(`${url}/monitoring/ready`);
    assert.equal(readyDuringOutage.status, 503);
    assert.equal((await fetch(`${url}/monitoring/status`)).status, 200);
    await delay(OUTAGE_MS - 2000);
    assert.equal(server.child.exitCode, null, 'the server process is still running');

    // The watched instances stay silent after the return until the watchdog has made its first pass: their
    // deadlines passed while nobody could check in, and that pass must not take it for silence.
    watchedPaused = true;
    database = await startEmbeddedDatabase({ dataDir, database: 'vigil_db_outage', port: port5432 });
    phase = 'after';
    const back = new Date();
    // Check-ins succeed again within a bound, without restarting the server.
    while (!replies.some((r) => r.phase === 'after' && r.status === 200)) {
      assert.ok(
        Date.now() - back.getTime() < 20_000,
        'no check-in succeeded within 20 s of the database’s return',
      );
      await delay(100);
    }
    const passedSince = async () =>
      (
        await query<{ n: number }>(
          database!.url,
          'SELECT count(*)::int AS n FROM dead_mans_switch_watchdog WHERE last_pass_at > $1',
          [back],
        )
      )[0].n > 0;
    // The watchdog runs every 30 s.
    while (!(await passedSince())) {
      assert.ok(Date.now() - back.getTime() < 45_000, 'no watchdog pass within 45 s of the return');
      await delay(250);
    }
    watchedPaused = false;
    await delay(2000);
    running = false;
    await load;
    const falseAlerts = await query<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM dead_mans_switch_alert a JOIN dead_mans_switch_instance i ON i.id = a.instance_id
       WHERE i.database_uuid = ANY($1::uuid[])`,
      [watched],
    );
    assert.deepEqual(falseAlerts, [{ n: 0 }], 'alerts for instances that were only cut off by the outage');
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    assert.match(metrics, /^vigil_dms_watchdog_gaps_total [1-9]/m);

    const outage = replies.filter((r) => r.phase === 'outage');
    assert.ok(outage.length > 0, 'check-ins were sent during the outage');
    const unexpected = replies.filter((r) => r.status !== 200 && r.status !== 503);
    assert.deepEqual(
      unexpected.map((r) => `${r.status} (${r.phase})`),
      [],
      `only 200 and 503 are answered; the server said:\n${server.output().slice(-3000)}`,
    );
    for (const reply of replies.filter((r) => r.status === 503)) assert.equal(reply.retryAfter, '5');
    assert.ok(
      outage.filter((r) => r.status === 503).length > 0,
      'check-ins were refused with 503 during the outage',
    );
    const slowest = Math.max(...replies.map((r) => r.ms));
    assert.ok(slowest < 10_000, `the slowest answer took ${slowest} ms`);
    assert.equal((await fetch(`${url}/monitoring/ready`)).status, 200);
    assert.equal(server.child.exitCode, null);

    // Acknowledged means committed: every check-in answered 200 has its log row, across the crash.
    const acknowledged = new Map<string, number>();
    for (const r of replies.filter((r) => r.status === 200))
      acknowledged.set(r.uuid, (acknowledged.get(r.uuid) ?? 0) + 1);
    const logged = await query<{ uuid: string; n: number }>(
      database.url,
      `SELECT i.database_uuid::text AS uuid, count(*)::int - 1 AS n
       FROM dead_mans_switch_log l JOIN dead_mans_switch_instance i ON i.id = l.instance_id GROUP BY 1`,
    );
    const lost = logged.filter((row) => row.n < (acknowledged.get(row.uuid) ?? 0));
    assert.deepEqual(lost, [], 'acknowledged check-ins missing from the log');
    console.log(
      `database outage: ${replies.length} check-ins, ${outage.length} during the outage ` +
        `(${outage.filter((r) => r.status === 503).length} answered 503), slowest answer ${slowest} ms`,
    );
  });

  function checkIn(uuid: string): Promise<Response> {
    return fetch(`${url}/dead_mans_switch/alive`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ database_uuid: uuid, cpu: 1, ram: 2, user_count: 1 }),
    });
  }
});
