import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadMansSwitchClientService } from '../../modules/dead_mans_switch_client/dead-mans-switch-client.service.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { bracket, burnCpu, cpuPercentBounds } from '../harness/cpu.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';

describe('a Vigil client checking in with a Vigil server', () => {
  const databases: string[] = [];
  let server: TestApp;
  let client: TestApp;
  let clientUuid: string;

  before(async () => {
    databases.push(await cloneTemplate(), await cloneTemplate());
    server = await startTestApp({ databaseUrl: databases[0], env: { ADDONS: 'dead_mans_switch_server' } });
    // A clone of the template shares its database.uuid: the client's gets its own, as a real database would.
    await query(
      databases[1],
      "UPDATE setting SET value = gen_random_uuid()::text WHERE key = 'database.uuid'",
    );
    client = await startTestApp({
      databaseUrl: databases[1],
      env: {
        ADDONS: 'dead_mans_switch_client',
        DEAD_MANS_SWITCH_CLIENT_URL: `${server.url}/dead_mans_switch/alive`,
      },
    });
    [{ value: clientUuid }] = await query<{ value: string }>(
      databases[1],
      "SELECT value FROM setting WHERE key = 'database.uuid'",
    );
  });

  after(async () => {
    await client?.close();
    await server?.close();
    for (const db of databases) await dropDatabase(db);
  });

  it('registers the client instance with its uuid and measured statistics', async () => {
    // Two people use the client backend.
    const clientApi = new Api(client.url);
    await clientApi.login(ADMIN.email, ADMIN.password);
    const viewer = await newUser(client, { roles: ['viewer'] });
    await clientApi.login(viewer.email, viewer.password);

    // Each check-in reports this process's CPU since the previous one. The test reads the CPU time and the clock
    // around each send, and burns a fixed amount of CPU time (as a loaded backend would) before the last one: the
    // figures must be what was really used, bounded by those readings, whatever else runs on the machine.
    const checkIns = client.get(DeadMansSwitchClientService);
    const [, first] = await bracket(() => checkIns.sendNow());
    // A pause, only to give the quiet window some length: the bounds hold however long it really lasts.
    await sleep(200);
    const [quiet, second] = await bracket(() => checkIns.sendNow());
    burnCpu(300_000);
    const [busy, third] = await bracket(() => checkIns.sendNow());
    for (const [name, figure, { min, max }] of [
      ['quiet', Number(quiet.sent.cpu), cpuPercentBounds(first, second)],
      ['busy', Number(busy.sent.cpu), cpuPercentBounds(second, third)],
    ] as const)
      assert.ok(figure >= min && figure <= max, `${name} cpu ${figure}% is not within [${min}, ${max}]%`);
    const busyCpu = Number(busy.sent.cpu);

    const admin = await new Api(server.url).login(ADMIN.email, ADMIN.password);
    const found = await admin.get(`/api/v1/dead_mans_switch/instances?q=${clientUuid}`);
    assert.equal(found.status, 200);
    assert.equal(found.body.total, 1);
    const instance = found.body.items[0];
    assert.equal(instance.database_uuid, clientUuid);
    assert.equal(instance.state, 'new');
    assert.equal(instance.last_cpu, busyCpu);
    assert.ok(instance.last_ram > 0);
    assert.equal(instance.last_user_count, 2);

    const logs = await admin.get(`/api/v1/dead_mans_switch/instances/${instance.id}/logs`);
    assert.equal(logs.status, 200);
    const rows = await query<{ n: string }>(
      databases[0],
      'SELECT count(*) AS n FROM dead_mans_switch_log WHERE instance_id = $1',
      [instance.id],
    );
    assert.equal(rows[0].n, '3');
  });
});
