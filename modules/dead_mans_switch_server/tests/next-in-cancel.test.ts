import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { SETTINGS } from '../settings.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import {
  activeInstance,
  alerts,
  count,
  elapse,
  instanceByUuid,
  jsonRpc,
  newUuid,
  postAlive,
  postInstanceEndpoint,
} from './helpers.js';

const DELAY = 60;
const INSTANCES = '/api/v1/dead_mans_switch/instances';

describe('next_in and self-cancel', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-06-01T08:00:00Z'));

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    // The clock moves by the hour below: not a watchdog outage.
    await app.get(SettingsService).set(SETTINGS.watchdogGapSeconds, String(2 * 3600));
    await app.get(WatchdogService).runPass();
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('a check-in with next_in: 86400 is alerted after its own deadline, not after 2x the delay', async () => {
    const { id, uuid } = await activeInstance(app, admin);
    const checkedIn = await postAlive(app, jsonRpc({ database_uuid: uuid, next_in: 86_400 }));
    assert.deepEqual(checkedIn.body.result, { status: 'ok', instance_state: 'active' });
    const shown = await admin.get(`${INSTANCES}/${id}`);
    assert.equal(shown.body.next_in, 86_400);
    assert.equal(shown.body.next_deadline, new Date(clock.now().getTime() + 2 * 86_400_000).toISOString());

    // Far beyond 2x alive_max_delay: up, no alert. Between 1x and 2x next_in: late, still no alert.
    await elapse(app, clock, 10 * DELAY);
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.health, 'up');
    await elapse(app, clock, 86_400, 3600);
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.health, 'late');
    await elapse(app, clock, 86_400 - 10 * DELAY - 3600, 3600);
    assert.deepEqual(await alerts(db, id), []);
    await elapse(app, clock, 3600, 60);
    assert.deepEqual(await alerts(db, id), ['down']);

    // The next check-in without next_in goes back to alive_max_delay.
    assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
    assert.deepEqual(await alerts(db, id), ['down', 'up']);
    assert.equal((await admin.get(`${INSTANCES}/${id}`)).body.next_in, null);
    await elapse(app, clock, 2 * DELAY);
    assert.deepEqual(await alerts(db, id), ['down', 'up', 'down']);
  });

  it('bounds next_in by the settings and refuses one that is not a number', async () => {
    const uuid = newUuid();
    await postAlive(app, { database_uuid: uuid, next_in: 5 });
    assert.equal((await instanceByUuid(db, uuid)).next_in, 60);
    await postAlive(app, { database_uuid: uuid, next_in: 365 * 86_400 });
    assert.equal((await instanceByUuid(db, uuid)).next_in, 31 * 86_400);
    const refused = await postAlive(app, { database_uuid: uuid, next_in: 'tomorrow' });
    assert.equal(refused.status, 400);
    assert.match(refused.body.message, /next_in/);
    assert.equal(
      await count(db, 'dead_mans_switch_log', 'instance_id = $1', [(await instanceByUuid(db, uuid)).id]),
      2,
    );
  });

  it('a cancelled instance never alerts, and a later check-in is logged but leaves it suspended', async () => {
    const { id, uuid } = await activeInstance(app, admin);
    const cancelled = await postInstanceEndpoint(app, 'cancel', jsonRpc({ database_uuid: uuid }));
    assert.equal(cancelled.status, 200);
    assert.deepEqual(cancelled.body, {
      jsonrpc: '2.0',
      id: null,
      result: { status: 'ok', instance_state: 'suspended' },
    });
    const shown = (await admin.get(`${INSTANCES}/${id}`)).body;
    assert.equal(shown.state, 'suspended');
    assert.equal(shown.cancelled_at, clock.now().toISOString());

    // Tracked in the chatter as an internal note of the instance, with the state change.
    const messages = await admin.get(
      `/api/v1/threads/dead_mans_switch.instance/${id}/messages?internal=true`,
    );
    const note = messages.body.items.find((m: any) => m.subtype === 'dead_mans_switch.mt_instance_cancelled');
    assert.ok(note, JSON.stringify(messages.body.items));
    assert.match(note.body, /cancelled its monitoring/);
    assert.deepEqual(
      note.tracking.map((t: any) => `${t.field}: ${t.old_value} → ${t.new_value}`),
      ['state: active → suspended'],
    );

    await elapse(app, clock, 20 * DELAY);
    const logsBefore = await count(db, 'dead_mans_switch_log', 'instance_id = $1', [id]);
    assert.deepEqual((await postAlive(app, { database_uuid: uuid })).body, {
      status: 'ok',
      instance_state: 'suspended',
    });
    assert.equal(await count(db, 'dead_mans_switch_log', 'instance_id = $1', [id]), logsBefore + 1);
    await elapse(app, clock, 20 * DELAY);
    assert.equal((await instanceByUuid(db, uuid)).state, 'suspended');
    assert.deepEqual(await alerts(db, id), []);

    // Cancelling again is a no-op; a manager's activation brings it back.
    assert.equal((await postInstanceEndpoint(app, 'cancel', { database_uuid: uuid })).status, 200);
    assert.equal(
      await count(
        db,
        'mail_message m JOIN mail_subtype s ON s.id = m.subtype_id',
        `m.res_id = $1 AND s.key = 'dead_mans_switch.mt_instance_cancelled'`,
        [id],
      ),
      1,
    );
    const reactivated = await admin.post(`${INSTANCES}/${id}/activate`);
    assert.equal(reactivated.body.state, 'active');
    assert.equal(reactivated.body.cancelled_at, null);
    await elapse(app, clock, 2 * DELAY);
    assert.deepEqual(await alerts(db, id), ['down']);
  });

  it('refuses to cancel an unknown or malformed uuid, in both forms', async () => {
    const unknown = newUuid();
    const plain = await postInstanceEndpoint(app, 'cancel', { database_uuid: unknown });
    assert.equal(plain.status, 404);
    const rpc = await postInstanceEndpoint(app, 'cancel', jsonRpc({ database_uuid: unknown }));
    assert.equal(rpc.status, 200);
    assert.equal(rpc.body.error.data.name, 'odoo.exceptions.MissingError');
    assert.equal((await postInstanceEndpoint(app, 'cancel', { database_uuid: 'nope' })).status, 400);
    assert.equal((await postInstanceEndpoint(app, 'cancel', 'x'.repeat(17 * 1024))).status, 413);
    assert.equal(
      (await postInstanceEndpoint(app, 'cancel', 'database_uuid=x', { 'content-type': 'text/plain' })).status,
      415,
    );
    assert.equal(await count(db, 'dead_mans_switch_instance', 'database_uuid = $1', [unknown]), 0);
  });
});
