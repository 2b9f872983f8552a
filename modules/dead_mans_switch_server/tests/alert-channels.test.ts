import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { ChatterService, ManualClock, NotificationDispatcher, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import {
  ntfyReceiver,
  slackReceiver,
  teamsReceiver,
  webhookReceiver,
  type Receiver,
} from '../../../test/harness/receivers.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { elapse, jsonRpc, newUuid, postAlive } from './helpers.js';

const DELAY = 60;
const SECRET = 'instance-alerts-secret-42';

describe('dead_mans_switch_server: alerts through every subscribed channel', () => {
  let app: TestApp;
  let db: string;
  const receivers: Receiver[] = [];
  const clock = new ManualClock(new Date('2025-06-01T08:00:00Z'));

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    await app.get(SettingsService).set('mail.channels.allow_private_networks', '1');
    await app.get(WatchdogService).runPass();
  });

  after(async () => {
    await app?.close();
    for (const r of receivers) await r.stop();
    await dropDatabase(db);
  });

  it('reaches each follower once per channel when an instance goes down, and once when it is back', async () => {
    const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const uuid = newUuid();
    assert.equal(
      (await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 2, user_count: 1 }))).status,
      200,
    );
    const [{ id }] = await query<{ id: number }>(
      db,
      'SELECT id FROM dead_mans_switch_instance WHERE database_uuid = $1',
      [uuid],
    );
    assert.equal(
      (await admin.patch(`/api/v1/dead_mans_switch/instances/${id}`, { alive_max_delay: DELAY })).status,
      200,
    );
    assert.equal((await admin.post(`/api/v1/dead_mans_switch/instances/${id}/activate`)).status, 200);

    // Two followers: Ann on a webhook and Slack, Bob on a webhook, Teams and ntfy.
    const plan: Record<string, [string, () => Receiver, (r: Receiver) => Record<string, string>][]> = {
      Ann: [
        ['webhook', () => webhookReceiver(SECRET), (r) => ({ url: r.url, secret: SECRET })],
        ['slack', slackReceiver, (r) => ({ url: r.url })],
      ],
      Bob: [
        ['webhook', () => webhookReceiver(SECRET), (r) => ({ url: r.url, secret: SECRET })],
        ['teams', teamsReceiver, (r) => ({ url: r.url })],
        ['ntfy', ntfyReceiver, (r) => ({ server: r.url, topic: 'bob' })],
      ],
    };
    for (const [name, channels] of Object.entries(plan)) {
      const user = await newUser(app, { name });
      const api = new Api(
        app.url,
        await app.get(JwtService).signAsync({ sub: user.id, ver: 0, typ: 'api' }, { expiresIn: 3600 }),
      );
      await app.get(ChatterService).follow({ model: 'dead_mans_switch.instance', id }, user.partner_id);
      for (const [kind, make, settings] of channels) {
        const receiver = await make().start();
        receivers.push(receiver);
        const created = await api.post('/api/v1/me/channels', {
          kind,
          name: kind,
          settings: settings(receiver),
        });
        assert.equal(created.status, 201, JSON.stringify(created.body));
      }
    }

    await elapse(app, clock, 2 * DELAY);
    const dispatcher = app.get(NotificationDispatcher);
    assert.deepEqual(await dispatcher.dispatchDue(), { sent: 5, retried: 0, failed: 0 });
    for (const r of receivers) assert.deepEqual(r.requests.map((q) => q.status).length, 1, r.url);
    for (const r of receivers) assert.equal(r.accepted.length, 1, `${r.url}: ${r.requests[0].body}`);
    const [annHook, , bobHook] = receivers;
    assert.equal(annHook.requests[0].json.subject, `Dead man's switch warning: ${uuid}`);
    assert.equal(annHook.requests[0].json.subtype, 'dead_mans_switch.mt_instance_down');
    assert.notEqual(
      annHook.requests[0].headers['idempotency-key'],
      bobHook.requests[0].headers['idempotency-key'],
    );

    await elapse(app, clock, 30);
    assert.deepEqual(
      await dispatcher.dispatchDue(),
      { sent: 0, retried: 0, failed: 0 },
      'one alert, not two',
    );

    assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuid }))).status, 200);
    assert.deepEqual(await dispatcher.dispatchDue(), { sent: 5, retried: 0, failed: 0 });
    for (const r of receivers) assert.equal(r.accepted.length, 2, r.url);
    assert.equal(annHook.requests[1].json.subtype, 'dead_mans_switch.mt_instance_up');
  });
});
