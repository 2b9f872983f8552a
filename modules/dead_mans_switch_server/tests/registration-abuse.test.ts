import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SchedulerService, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { CheckInService } from '../checkin/checkin.service.js';
import { RateLimitedException } from '../checkin/rate-limited.exception.js';
import { SETTINGS } from '../settings.js';
import {
  activeInstance,
  count,
  instanceByUuid,
  jsonRpc,
  newUuid,
  postAlive,
  postInstanceEndpoint,
} from './helpers.js';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
}

/** Issue 22 item 5: registration abuse (global cap, purge of never-activated instances, check-in tokens). */
describe('registration abuse', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-05-01T10:00:00Z'));
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(text) as LogLine);
      done();
    },
  });
  const settings = () => app.get(SettingsService);
  const register = (source: string, uuid = newUuid()) =>
    app.get(CheckInService).findOrRegister(uuid, clock.now(), source);
  const refused = (promise: Promise<unknown>) =>
    assert.rejects(promise, (error) => error instanceof RateLimitedException);

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { LOG_LEVEL: 'info' },
      logDestination: sink,
    });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  describe('IPv6 /64 aggregation of the per-source cap (already on main, checked again end to end)', () => {
    it('refuses a third registration from another address of the same /64, not from the next /64', async () => {
      await settings().set(SETTINGS.maxRegistrationsPerHour, '2');
      try {
        clock.advance(2 * 3600);
        await register('2001:db8:aa:1::1');
        await register('2001:db8:aa:1:8000::2');
        await refused(register('2001:db8:aa:1:ffff:ffff:ffff:ffff'));
        await register('2001:db8:aa:2::1');
      } finally {
        await settings().set(SETTINGS.maxRegistrationsPerHour, '20');
      }
    });
  });

  describe('global cap per hour: dead_mans_switch.max_registrations_global_per_hour', () => {
    it('is declared with a default of 100', async () => {
      assert.equal(await settings().get(SETTINGS.maxRegistrationsGlobalPerHour), 100);
    });

    it('refuses a new uuid from any address once all sources together reached it; known instances still check in', async () => {
      clock.advance(2 * 3600);
      await settings().set(SETTINGS.maxRegistrationsGlobalPerHour, '3');
      try {
        // Three different subscribers, each far below the per-source cap.
        const known = newUuid();
        await register('192.0.2.1', known);
        await register('192.0.2.2');
        await register('2001:db8:bb:1::1');
        await refused(register('192.0.2.3'));
        await refused(register('2001:db8:bb:2::1'));
        // Over HTTP: the per-source cap's kind of answer (429, Retry-After), naming the global setting.
        const uuid = newUuid();
        const capped = await postAlive(app, { database_uuid: uuid });
        assert.equal(capped.status, 429);
        assert.match(capped.body.message, /max_registrations_global_per_hour/);
        assert.equal(capped.headers.get('retry-after'), '3600');
        assert.equal(await instanceByUuid(db, uuid), undefined);
        const french = await postAlive(app, { database_uuid: uuid }, { 'accept-language': 'fr' });
        assert.match(french.body.message, /toutes adresses confondues/);
        // A known instance is no registration.
        assert.equal((await postAlive(app, { database_uuid: known, cpu: 1 })).status, 200);
        // An hour later the window has room again.
        clock.advance(3601);
        assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
      } finally {
        await settings().set(SETTINGS.maxRegistrationsGlobalPerHour, '100');
      }
    });

    it('holds under concurrent registrations: exactly the cap gets through (counted in the database)', async () => {
      clock.advance(2 * 3600);
      await settings().set(SETTINGS.maxRegistrationsGlobalPerHour, '5');
      try {
        const before = await count(db, 'dead_mans_switch_instance');
        const outcomes = await Promise.allSettled(
          Array.from({ length: 16 }, (_, i) => register(`198.51.100.${i + 1}`)),
        );
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 5);
        for (const outcome of outcomes)
          if (outcome.status === 'rejected')
            assert.ok(outcome.reason instanceof RateLimitedException, String(outcome.reason));
        assert.equal(await count(db, 'dead_mans_switch_instance'), before + 5);
      } finally {
        await settings().set(SETTINGS.maxRegistrationsGlobalPerHour, '100');
      }
    });

    it('logs one warning per hour while refusing, not one per request', async () => {
      clock.advance(2 * 3600);
      await settings().set(SETTINGS.maxRegistrationsGlobalPerHour, '2');
      const warnings = () =>
        lines.filter((l) => l.context === 'DeadMansSwitchRegistrations' && /global cap/.test(l.msg));
      const already = warnings().length;
      try {
        await register('203.0.113.1');
        await register('203.0.113.2');
        for (let i = 0; i < 5; i++) await refused(register(`203.0.113.${10 + i}`));
        clock.advance(1800);
        for (let i = 0; i < 5; i++) await refused(register(`203.0.113.${20 + i}`));
        assert.equal(warnings().length - already, 1);
        assert.equal(warnings().at(-1)!.level, 40);
        assert.match(warnings().at(-1)!.msg, /2 instances registered in the last hour/);
        // The next hour, full again: one more warning.
        clock.advance(1801);
        await register('203.0.113.30');
        await register('203.0.113.31');
        for (let i = 0; i < 5; i++) await refused(register(`203.0.113.${40 + i}`));
        assert.equal(warnings().length - already, 2);
      } finally {
        await settings().set(SETTINGS.maxRegistrationsGlobalPerHour, '100');
      }
    });
  });

  describe('purge of never-activated instances: dead_mans_switch.new_instance_max_age_days', () => {
    const PURGE = 'dead_mans_switch.new_instance_purge';
    const purge = () => app.get(SchedulerService).runDue(PURGE);
    const chatterOf = (id: number) =>
      count(db, 'mail_message', "model = 'dead_mans_switch.instance' AND res_id = $1", [id]);
    const followersOf = (id: number) =>
      count(db, 'mail_follower', "model = 'dead_mans_switch.instance' AND res_id = $1", [id]);

    it('is declared with a default of 30 days', async () => {
      assert.equal(await settings().get(SETTINGS.newInstanceMaxAgeDays), 30);
    });

    it('deletes new instances older than the setting with their logs, events and chatter, once across replicas', async () => {
      clock.advance(86_400);
      // An abandoned registration, with everything that can hang on a new instance.
      const abandoned = newUuid();
      assert.equal((await postAlive(app, jsonRpc({ database_uuid: abandoned, cpu: 1 }))).status, 200);
      const old = (await instanceByUuid(db, abandoned)).id as number;
      const event = await postInstanceEndpoint(app, 'event', {
        database_uuid: abandoned,
        level: 'critical',
        message: 'disk full',
      });
      assert.equal(event.status, 200);
      const partner = await newPartner(app, { name: 'Follower', email: 'follower@ops.test' });
      const followed = await admin.post(`/api/v1/threads/dead_mans_switch.instance/${old}/followers`, {
        partner_id: partner.id,
      });
      assert.equal(followed.status, 201, JSON.stringify(followed.body));
      const commented = await admin.post(`/api/v1/threads/dead_mans_switch.instance/${old}/messages`, {
        body: 'who is this?',
      });
      assert.equal(commented.status, 201, JSON.stringify(commented.body));
      assert.ok((await chatterOf(old)) >= 2);
      // Activated the same day: kept, whatever its age.
      const kept = await activeInstance(app, admin);
      const keptMessages = await chatterOf(kept.id);
      clock.advance(20 * 86_400);
      const recentUuid = newUuid();
      assert.equal((await postAlive(app, { database_uuid: recentUuid })).status, 200);
      const recent = (await instanceByUuid(db, recentUuid)).id as number;
      // The abandoned one keeps checking in now and then: its age counts from its registration.
      clock.advance(5 * 86_400);
      assert.equal((await postAlive(app, { database_uuid: abandoned })).status, 200);
      clock.advance(6 * 86_400);

      const cutoff = new Date(clock.now().getTime() - 30 * 86_400_000);
      const due = await count(db, 'dead_mans_switch_instance', "state = 'new' AND created_at < $1", [cutoff]);
      assert.ok(due >= 1);
      const messages = await query<{ id: number }>(
        db,
        "SELECT id FROM mail_message WHERE model = 'dead_mans_switch.instance' AND res_id = $1",
        [old],
      );
      assert.equal(await purge(), true);
      assert.equal(await purge(), false, 'a tick runs once, across replicas');

      assert.equal(await instanceByUuid(db, abandoned), undefined);
      assert.equal(await count(db, 'dead_mans_switch_log', 'instance_id = $1', [old]), 0);
      assert.equal(await count(db, 'dead_mans_switch_event', 'instance_id = $1', [old]), 0);
      assert.equal(await chatterOf(old), 0);
      assert.equal(await followersOf(old), 0);
      assert.equal(
        await count(db, 'mail_notification', 'message_id = ANY($1::integer[])', [messages.map((m) => m.id)]),
        0,
      );
      assert.equal(
        await count(db, 'dead_mans_switch_instance', "state = 'new' AND created_at < $1", [cutoff]),
        0,
      );
      // The active one and the recent new one stay, with their chatter.
      assert.equal((await instanceByUuid(db, kept.uuid)).state, 'active');
      assert.equal(await chatterOf(kept.id), keptMessages);
      assert.equal((await instanceByUuid(db, recentUuid)).id, recent);
      const logged = lines.filter((l) => l.context === 'DeadMansSwitchPurge');
      assert.equal(logged.length, 1);
      assert.match(
        logged[0].msg,
        new RegExp(`^Purged ${due} never-activated instance\\(s\\) registered more than 30 days`),
      );
      // Still alive after all: it registers again, as a new instance.
      assert.equal((await postAlive(app, { database_uuid: abandoned })).status, 200);
      assert.equal((await instanceByUuid(db, abandoned)).state, 'new');
    });

    it('keeps every new instance when the setting is 0', async () => {
      await settings().set(SETTINGS.newInstanceMaxAgeDays, '0');
      try {
        clock.advance(90 * 86_400);
        const before = await count(db, 'dead_mans_switch_instance', "state = 'new'");
        assert.ok(before >= 2);
        assert.equal(await purge(), true);
        assert.equal(await count(db, 'dead_mans_switch_instance', "state = 'new'"), before);
      } finally {
        await settings().set(SETTINGS.newInstanceMaxAgeDays, '30');
      }
      clock.advance(86_400);
      assert.equal(await purge(), true);
      assert.equal(await count(db, 'dead_mans_switch_instance', "state = 'new'"), 0);
    });
  });

  describe('optional per-instance check-in token (X-Vigil-Token)', () => {
    const tokenOf = (id: number) => `/api/v1/dead_mans_switch/instances/${id}/token`;
    const logsOf = (id: number) => count(db, 'dead_mans_switch_log', 'instance_id = $1', [id]);
    const withToken = (token: string) => ({ 'x-vigil-token': token });

    it('keeps instances without a token working as before, whatever header comes', async () => {
      clock.advance(3600);
      const { id, uuid } = await activeInstance(app, admin);
      assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1 }))).status, 200);
      assert.equal((await postAlive(app, { database_uuid: uuid }, withToken('anything'))).status, 200);
      assert.equal(
        (await postInstanceEndpoint(app, 'event', { database_uuid: uuid, level: 'info', message: 'hi' }))
          .status,
        200,
      );
      assert.equal(
        (await admin.get(`/api/v1/dead_mans_switch/instances/${id}`)).body.has_checkin_token,
        false,
      );
    });

    it('once a manager creates one, alive, cancel and event need it (401 and nothing recorded without)', async () => {
      clock.advance(3600);
      const { id, uuid } = await activeInstance(app, admin);
      const bob = await newUser(app, { roles: ['viewer'], email: 'viewer-token@ops.test' });
      const viewer = await new Api(app.url).login(bob.email, bob.password);
      assert.equal((await viewer.post(tokenOf(id))).status, 403);
      assert.equal((await admin.post(tokenOf(999_999))).status, 404);
      const created = await admin.post(tokenOf(id));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const token = created.body.token as string;
      assert.match(token, /^vdms_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.header, 'X-Vigil-Token');
      assert.equal(created.body.instance.has_checkin_token, true);
      // Never shown again, stored only as its SHA-256.
      const read = await admin.get(`/api/v1/dead_mans_switch/instances/${id}`);
      assert.equal(read.body.has_checkin_token, true);
      assert.ok(!JSON.stringify(read.body).includes(token));
      assert.ok(!JSON.stringify(read.body).includes('hash'));
      const [row] = await query<{ checkin_token_hash: Buffer }>(
        db,
        'SELECT checkin_token_hash FROM dead_mans_switch_instance WHERE id = $1',
        [id],
      );
      assert.deepEqual(row.checkin_token_hash, createHash('sha256').update(token).digest());

      const logs = await logsOf(id);
      const lastSeen = (await instanceByUuid(db, uuid)).last_seen as Date;
      clock.advance(30);
      for (const headers of [{}, withToken(''), withToken('vdms_wrong'), withToken(token.slice(0, -1))]) {
        const plain = await postAlive(app, { database_uuid: uuid, cpu: 5 }, headers);
        assert.equal(plain.status, 401, JSON.stringify(plain.body));
        assert.match(plain.body.message, /X-Vigil-Token/);
        const rpc = await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 5 }), headers);
        assert.equal(rpc.status, 401);
      }
      const cancelled = await postInstanceEndpoint(app, 'cancel', { database_uuid: uuid });
      assert.equal(cancelled.status, 401);
      const event = await postInstanceEndpoint(app, 'event', {
        database_uuid: uuid,
        level: 'critical',
        message: 'x',
      });
      assert.equal(event.status, 401);
      const french = await postAlive(app, { database_uuid: uuid }, { 'accept-language': 'fr' });
      assert.match(french.body.message, /jeton/);
      // Nothing was recorded.
      assert.equal(await logsOf(id), logs);
      assert.equal(await count(db, 'dead_mans_switch_event', 'instance_id = $1', [id]), 0);
      const after = await instanceByUuid(db, uuid);
      assert.deepEqual([after.state, after.last_seen], ['active', lastSeen]);

      // With it: as before.
      const ok = await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 5 }), withToken(token));
      assert.deepEqual(ok.body, {
        jsonrpc: '2.0',
        id: null,
        result: { status: 'ok', instance_state: 'active' },
      });
      assert.equal(await logsOf(id), logs + 1);
      const sent = await postInstanceEndpoint(
        app,
        'event',
        { database_uuid: uuid, level: 'info', message: 'backup done' },
        withToken(token),
      );
      assert.equal(sent.status, 200);
      assert.equal(await count(db, 'dead_mans_switch_event', 'instance_id = $1', [id]), 1);
      const cancel = await postInstanceEndpoint(
        app,
        'cancel',
        jsonRpc({ database_uuid: uuid }),
        withToken(token),
      );
      assert.equal(cancel.status, 200);
      assert.equal((await instanceByUuid(db, uuid)).state, 'suspended');
    });

    it('rotates (the old token stops at once) and removes the token; both are noted in the chatter', async () => {
      clock.advance(3600);
      const { id, uuid } = await activeInstance(app, admin);
      const first = (await admin.post(tokenOf(id))).body.token as string;
      const second = (await admin.post(tokenOf(id))).body.token as string;
      assert.notEqual(first, second);
      assert.equal((await postAlive(app, { database_uuid: uuid }, withToken(first))).status, 401);
      assert.equal((await postAlive(app, { database_uuid: uuid }, withToken(second))).status, 200);
      const removed = await admin.delete(tokenOf(id));
      assert.equal(removed.status, 200);
      assert.equal(removed.body.has_checkin_token, false);
      assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
      const notes = await query<{ key: string }>(
        db,
        `SELECT body->>'key' AS key FROM mail_message WHERE model = 'dead_mans_switch.instance' AND res_id = $1
           AND message_type = 'note' ORDER BY id`,
        [id],
      );
      assert.deepEqual(
        notes.map((n) => n.key).filter((k) => k?.startsWith('dead_mans_switch_server.token.')),
        [
          'dead_mans_switch_server.token.created_note',
          'dead_mans_switch_server.token.created_note',
          'dead_mans_switch_server.token.removed_note',
        ],
      );
    });

    it('the dead_mans_switch_client addon sends the token of its setting dead_mans_switch_client.token', async () => {
      clock.advance(3600);
      // Through the client's API (this suite does not import another addon): one check-in now, 502 on failure.
      const sendNow = () => admin.post('/api/v1/dead_mans_switch_client/check_in');
      await settings().set('dead_mans_switch_client.url', `${app.url}/dead_mans_switch/alive`);
      try {
        // This backend checks in with itself: its database uuid registers.
        assert.equal((await sendNow()).status, 200);
        const own = await settings().get('database.uuid');
        const { id } = (await instanceByUuid(db, String(own))) as { id: number };
        const token = (await admin.post(tokenOf(id))).body.token as string;
        const refused = await sendNow();
        assert.equal(refused.status, 502, JSON.stringify(refused.body));
        assert.match(JSON.stringify(refused.body), /401/);
        assert.equal(await logsOf(id), 1);
        await settings().set('dead_mans_switch_client.token', token);
        const sent = await sendNow();
        assert.equal(sent.status, 200, JSON.stringify(sent.body));
        assert.deepEqual(sent.body.answer, {
          jsonrpc: '2.0',
          id: null,
          result: { status: 'ok', instance_state: 'new' },
        });
        assert.equal(await logsOf(id), 2);
      } finally {
        await settings().set('dead_mans_switch_client.url', '');
        await settings().set('dead_mans_switch_client.token', '');
      }
    });

    it('the instance page lets a manager create, see once, replace and remove the token', async () => {
      clock.advance(3600);
      const { id, uuid } = await activeInstance(app, admin);
      const cookies = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);
      const signIn = async (email: string, password: string) => {
        const form = await fetch(`${app.url}/web/login`);
        const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
        const login = await fetch(`${app.url}/web/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie: cookies(form).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _csrf: csrf, email, password }),
        });
        const session = cookies(login).find((c) => c.startsWith('vigil_session='));
        assert.ok(session, `signed in (HTTP ${login.status})`);
        return session;
      };
      const page = async (session: string) => {
        const response = await fetch(`${app.url}/web/instances/${id}`, { headers: { cookie: session } });
        assert.equal(response.status, 200);
        return response.text();
      };
      const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
      const session = await signIn(ADMIN.email, ADMIN.password);
      const before = await page(session);
      assert.match(before, /<h2 id="instance-token">Check-in token<\/h2>/);
      assert.match(before, /Create a token/);
      assert.doesNotMatch(before, /id="checkin-token"/);

      const created = await fetch(`${app.url}/web/instances/${id}/token`, {
        method: 'POST',
        headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrfOf(before) }),
      });
      assert.equal(created.status, 200);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const shown = await created.text();
      const token = /<code class="secret" id="checkin-token">([^<]+)<\/code>/.exec(shown)?.[1];
      assert.ok(token, 'the token is shown once');
      assert.equal((await postAlive(app, { database_uuid: uuid }, withToken(token))).status, 200);
      assert.equal((await postAlive(app, { database_uuid: uuid })).status, 401);

      const again = await page(session);
      assert.ok(!again.includes(token), 'and never again');
      assert.match(again, /Replace the token/);
      assert.match(again, /X-Vigil-Token/);

      // A viewer sees whether there is one, not the buttons; a forged post is refused.
      const carol = await newUser(app, { roles: ['viewer'], email: 'viewer-web-token@ops.test' });
      const viewerSession = await signIn(carol.email, carol.password);
      const viewerPage = await page(viewerSession);
      assert.match(viewerPage, /must carry its token/);
      assert.doesNotMatch(viewerPage, /checkin-token-create|checkin-token-remove/);
      const forged = await fetch(`${app.url}/web/instances/${id}/token`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: viewerSession, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrfOf(viewerPage) }),
      });
      assert.equal(forged.status, 403);
      assert.equal((await postAlive(app, { database_uuid: uuid }, withToken(token))).status, 200);

      const removed = await fetch(`${app.url}/web/instances/${id}/token/delete`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrfOf(again) }),
      });
      assert.equal(removed.status, 303);
      assert.match(await page(session), /Create a token/);
      assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
    });
  });
});
