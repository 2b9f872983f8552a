import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { freePort, spawnVigil, waitForHttp, type VigilProcess } from '../harness/process.js';

interface Outcome {
  status: number | 'network';
  replica: 'a' | 'b';
  uuid: string;
}

const INSTANCES = 100;

describe('a rolling restart under a steady check-in load', () => {
  let db: string;
  const processes: VigilProcess[] = [];

  before(async () => {
    db = await cloneTemplate();
  });

  after(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await dropDatabase(db);
  });

  function replica(port: number): VigilProcess {
    const process = spawnVigil({
      PORT: String(port),
      DATABASE_URL: db,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-rolling-')),
      SESSION_SECRET: 'rolling-restart-secret-long-enough-hs256',
      ADMIN_EMAIL: 'admin@vigil.test',
      ADMIN_PASSWORD: 'admin-password-1',
    });
    processes.push(process);
    return process;
  }

  it('drains in-flight check-ins on SIGTERM: none answered 5xx, none acknowledged and lost', async () => {
    const ports = { a: await freePort(), b: await freePort() };
    let a = replica(ports.a);
    const b = replica(ports.b);
    await waitForHttp(`http://127.0.0.1:${ports.a}/monitoring/ready`, a);
    await waitForHttp(`http://127.0.0.1:${ports.b}/monitoring/ready`, b);
    // One load generator stands for many clients: lift the per-source limits.
    await query(
      db,
      "UPDATE setting SET value = '1000' WHERE key IN ('dead_mans_switch.max_registrations_per_hour', 'dead_mans_switch.max_registrations_global_per_hour')",
    );
    await query(
      db,
      "UPDATE setting SET value = '0' WHERE key = 'dead_mans_switch.checkins_per_source_per_minute'",
    );
    const uuids = Array.from({ length: INSTANCES }, () => randomUUID());

    // Clients send to replica a; like a load balancer, a request a could not take is sent to b.
    let aUp = true;
    let running = true;
    let next = 0;
    const outcomes: Outcome[] = [];
    const send = async (to: 'a' | 'b', uuid: string): Promise<Outcome> => {
      try {
        const response = await fetch(`http://127.0.0.1:${ports[to]}/dead_mans_switch/alive`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ database_uuid: uuid, cpu: 1 }),
        });
        await response.text();
        return { status: response.status, replica: to, uuid };
      } catch {
        return { status: 'network', replica: to, uuid };
      }
    };
    const client = async () => {
      while (running) {
        const uuid = uuids[next++ % INSTANCES];
        let outcome = await send(aUp ? 'a' : 'b', uuid);
        outcomes.push(outcome);
        if (outcome.status === 'network' && outcome.replica === 'a') {
          outcome = await send('b', uuid);
          outcomes.push(outcome);
        }
        await delay(20);
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, client));

    await delay(1500);
    const stopping = outcomes.length;
    try {
      a.child.kill('SIGTERM');
      // A graceful stop ends as the signal asked (143) or with 0, within a bound, and says nothing went wrong.
      const exitCode = await Promise.race([a.exited, delay(30_000).then(() => 'still running')]);
      assert.ok(exitCode === 143 || exitCode === 0, `replica a after SIGTERM: ${exitCode}\n${a.output()}`);
      assert.doesNotMatch(a.output(), /"level":(50|60)/, 'no error logged while stopping');
      aUp = false;
      // The restarted replica takes the load again.
      a = replica(ports.a);
      await waitForHttp(`http://127.0.0.1:${ports.a}/monitoring/ready`, a);
      aUp = true;
      await delay(1500);
    } finally {
      running = false;
      await load;
    }

    const failures = outcomes.filter((o) => o.status !== 200 && o.status !== 'network');
    assert.deepEqual(failures, [], 'every answer is 200');
    const network = outcomes.filter((o) => o.status === 'network');
    assert.ok(
      outcomes.slice(stopping).some((o) => o.replica === 'a' && o.status === 200) ||
        outcomes.slice(stopping).some((o) => o.replica === 'b'),
      'the load went on during the restart',
    );

    // Acknowledged means committed: every 200 has its log row.
    const acknowledged = new Map<string, number>();
    for (const o of outcomes.filter((o) => o.status === 200))
      acknowledged.set(o.uuid, (acknowledged.get(o.uuid) ?? 0) + 1);
    const logged = await query<{ uuid: string; n: number }>(
      db,
      `SELECT i.database_uuid::text AS uuid, count(*)::int AS n
       FROM dead_mans_switch_log l JOIN dead_mans_switch_instance i ON i.id = l.instance_id GROUP BY 1`,
    );
    const byUuid = new Map(logged.map((row) => [row.uuid, row.n]));
    const lost = [...acknowledged].filter(([uuid, n]) => (byUuid.get(uuid) ?? 0) < n);
    assert.deepEqual(lost, [], 'acknowledged check-ins missing from the log');
    console.log(
      `rolling restart: ${outcomes.length} check-ins, ${network.length} refused connections re-sent to the other ` +
        `replica, 0 answered 5xx, 0 acknowledged and lost`,
    );
  });
});
