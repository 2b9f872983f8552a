import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { CheckInService } from '../checkin/checkin.service.js';
import { RateLimitedException } from '../checkin/rate-limited.exception.js';
import { SourceRateLimiter } from '../checkin/source-rate-limiter.js';
import { CHECKINS_PER_UUID_PER_MINUTE, SETTINGS } from '../settings.js';
import { count, instanceByUuid, jsonRpc, newUuid, postAlive } from './helpers.js';

describe('POST /dead_mans_switch/alive', () => {
  let app: TestApp;
  let db: string;
  const clock = new ManualClock(new Date('2025-03-01T10:00:00Z'));

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('registers an unknown uuid from the exact JSON-RPC body of the OCA client and replies as Odoo does', async () => {
    const uuid = newUuid();
    // Byte for byte what Odoo's client sends: no id, floats.
    const body = `{"jsonrpc": "2.0", "method": "call", "params": {"database_uuid": "${uuid}", "cpu": 0.0, "ram": 3.5, "user_count": 2}}`;
    const reply = await postAlive(app, body);
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      jsonrpc: '2.0',
      id: null,
      result: { status: 'ok', instance_state: 'new' },
    });
    assert.equal('error' in reply.body, false);
    const instance = await instanceByUuid(db, uuid);
    assert.equal(instance.state, 'new');
    assert.equal(instance.last_cpu, 0);
    assert.equal(instance.last_ram, 3.5);
    assert.equal(instance.last_user_count, 2);
    assert.equal((instance.last_seen as Date).toISOString(), clock.now().toISOString());
    const logs = await query(db, 'SELECT * FROM dead_mans_switch_log WHERE instance_id = $1', [instance.id]);
    assert.equal(logs.length, 1);
    assert.equal((logs[0].received_at as Date).toISOString(), clock.now().toISOString());
    assert.deepEqual([logs[0].cpu, logs[0].ram, logs[0].user_count], [0, 3.5, 2]);
  });

  it('accepts user_count null and integer cpu/ram, and stores one log row per check-in', async () => {
    const uuid = newUuid();
    const first = await postAlive(
      app,
      `{"jsonrpc": "2.0", "method": "call", "params": {"database_uuid": "${uuid}", "cpu": 0, "ram": 3, "user_count": null}}`,
    );
    assert.equal(first.status, 200);
    assert.equal(first.body.error, undefined);
    clock.advance(300);
    const second = await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 12, ram: 40, user_count: 7 }));
    assert.deepEqual(second.body, {
      jsonrpc: '2.0',
      id: null,
      result: { status: 'ok', instance_state: 'new' },
    });
    assert.equal(await count(db, 'dead_mans_switch_instance', 'database_uuid = $1', [uuid]), 1);
    const instance = await instanceByUuid(db, uuid);
    const logs = await query(
      db,
      'SELECT cpu, ram, user_count FROM dead_mans_switch_log WHERE instance_id = $1 ORDER BY received_at',
      [instance.id],
    );
    assert.deepEqual(logs, [
      { cpu: 0, ram: 3, user_count: null },
      { cpu: 12, ram: 40, user_count: 7 },
    ]);
    assert.equal(instance.last_user_count, 7);
  });

  it("echoes the request's id when there is one", async () => {
    const reply = await postAlive(app, { ...jsonRpc({ database_uuid: newUuid() }), id: 42 });
    assert.equal(reply.body.id, 42);
    assert.equal(reply.body.result.status, 'ok');
  });

  it('accepts plain JSON with the optional statistics and ignores unknown keys', async () => {
    const uuid = newUuid().toUpperCase();
    const reply = await postAlive(app, {
      database_uuid: uuid,
      cpu: 1.5,
      ram: 20,
      user_count: 3,
      db_size: 123456789,
      disk_free: 1000,
      disk_total: 5000,
      last_backup_at: '2025-03-01T03:00:00Z',
      version: '17.0',
      uptime: 3600.7,
      state: 'active',
      id: 1,
      alive_max_delay: 1,
      partner_id: 1,
      evil: "'; DROP TABLE partner; --",
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { status: 'ok', instance_state: 'new' });
    const instance = await instanceByUuid(db, uuid.toLowerCase());
    assert.equal(instance.state, 'new');
    assert.equal(instance.alive_max_delay, 600);
    assert.equal(instance.partner_id, null);
    assert.equal(instance.last_db_size, '123456789');
    assert.equal(instance.last_version, '17.0');
    assert.equal(instance.last_uptime, '3601');
    assert.equal((instance.last_backup_at as Date).toISOString(), '2025-03-01T03:00:00.000Z');
    const [log] = await query(db, 'SELECT * FROM dead_mans_switch_log WHERE instance_id = $1', [instance.id]);
    assert.equal(log.disk_free, '1000');
    assert.equal(log.disk_total, '5000');
  });

  it('answers a JSON-RPC check-in without uuid with an Odoo error object and stores nothing', async () => {
    const instances = await count(db, 'dead_mans_switch_instance');
    const logs = await count(db, 'dead_mans_switch_log');
    const reply = await postAlive(app, jsonRpc({ cpu: 1, ram: 2, user_count: 0 }));
    assert.equal(reply.status, 200);
    assert.equal(reply.body.jsonrpc, '2.0');
    assert.equal(reply.body.id, null);
    assert.equal(reply.body.result, undefined);
    assert.equal(reply.body.error.code, 200);
    assert.equal(reply.body.error.message, 'Odoo Server Error');
    assert.match(reply.body.error.data.message, /database_uuid is missing/);
    const invalid = await postAlive(app, jsonRpc({ database_uuid: 'not-a-uuid' }), {
      'accept-language': 'fr',
    });
    assert.match(invalid.body.error.data.message, /database_uuid doit être un UUID/);
    assert.equal(await count(db, 'dead_mans_switch_instance'), instances);
    assert.equal(await count(db, 'dead_mans_switch_log'), logs);
  });

  it('refuses invalid plain JSON with 400 and a clear message, storing nothing', async () => {
    const instances = await count(db, 'dead_mans_switch_instance');
    const logs = await count(db, 'dead_mans_switch_log');
    const cases: [unknown, RegExp][] = [
      [{ cpu: 1 }, /database_uuid is missing/],
      [{ database_uuid: '1234' }, /must be a UUID/],
      [[{ database_uuid: newUuid() }], /must be a JSON object/],
      ['{"database_uuid": ', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      const reply = await postAlive(app, body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.statusCode, 400);
      assert.equal(reply.body.error, 'Bad Request');
      assert.match(reply.body.message, message);
    }
    assert.equal(await count(db, 'dead_mans_switch_instance'), instances);
    assert.equal(await count(db, 'dead_mans_switch_log'), logs);
  });

  it('keeps the heartbeat of a check-in with a bad statistic: the value is dropped (or cut) and said why', async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ cpu: 'high' }, 'cpu', /^cpu was not a number: not stored$/],
      [{ ram: -1 }, 'ram', /^ram is a percentage, between 0 and 100: not stored$/],
      [{ ram: 150 }, 'ram', /^ram is a percentage, between 0 and 100: not stored$/],
      [{ user_count: 2.5 }, 'user_count', /^user_count must be a whole number: not stored$/],
      [{ user_count: -3 }, 'user_count', /^user_count must be between 0 and 2147483647: not stored$/],
      [
        { disk_free: 10, disk_total: 5 },
        'disk_free',
        /^disk_free is larger than disk_total \(5\): not stored$/,
      ],
      [{ last_backup_at: 'yesterday' }, 'last_backup_at', /^last_backup_at was not an ISO 8601 date/],
      [{ version: 'x'.repeat(101) }, 'version', /^version was longer than 100 characters: cut to 100$/],
    ];
    for (const [statistics, field, message] of cases) {
      const uuid = newUuid();
      const reply = await postAlive(app, { database_uuid: uuid, cpu: 1, ...statistics });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.status, 'ok');
      assert.equal(reply.body.ignored.length, 1, JSON.stringify(reply.body));
      assert.equal(reply.body.ignored[0].field, field);
      assert.match(reply.body.ignored[0].message, message);
      const instance = await instanceByUuid(db, uuid);
      assert.ok(instance.last_seen, 'the heartbeat counted');
    }
    // Free text is cut, not dropped: the first 100 characters are kept.
    const uuid = newUuid();
    await postAlive(app, { database_uuid: uuid, version: `v${'9'.repeat(150)}` });
    assert.equal((await instanceByUuid(db, uuid)).last_version, `v${'9'.repeat(99)}`);
  });

  it('refuses bodies over 16 KiB with 413 and other content types with 415', async () => {
    const instances = await count(db, 'dead_mans_switch_instance');
    const big = await postAlive(app, { database_uuid: newUuid(), version: '1', padding: 'x'.repeat(17_000) });
    assert.equal(big.status, 413);
    assert.match(big.body.message, /at most 16384 bytes/);
    const huge = await postAlive(app, { database_uuid: newUuid(), padding: 'x'.repeat(2_000_000) });
    assert.equal(huge.status, 413);
    const text = await postAlive(app, JSON.stringify({ database_uuid: newUuid() }), {
      'content-type': 'text/plain',
    });
    assert.equal(text.status, 415);
    assert.match(text.body.message, /Content-Type: application\/json/);
    const justUnder = await postAlive(app, { database_uuid: newUuid(), padding: 'x'.repeat(16_000) });
    assert.equal(justUnder.status, 200);
    assert.equal(await count(db, 'dead_mans_switch_instance'), instances + 1);
  });

  it('keeps the 16 KiB limit on every spelling of the path the router accepts', async () => {
    const body = JSON.stringify({ database_uuid: newUuid(), padding: 'x'.repeat(17_000) });
    // Each of these reaches the check-in route (the router ignores case and repeated trailing slashes).
    for (const path of ['/dead_mans_switch/alive/', '/Dead_Mans_Switch/ALIVE', '/DEAD_MANS_SWITCH/alive//']) {
      const response = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(response.status, 413, path);
    }
    const routed = await fetch(`${app.url}/Dead_Mans_Switch/Alive/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ database_uuid: newUuid() }),
    });
    assert.equal(routed.status, 200, 'the router does accept this spelling');
  });

  it('caps the registrations per source address and hour with 429, without touching known instances', async () => {
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '2');
    try {
      clock.advance(2 * 3600);
      const uuids = [newUuid(), newUuid(), newUuid()];
      assert.equal((await postAlive(app, { database_uuid: uuids[0] })).status, 200);
      assert.equal((await postAlive(app, { database_uuid: uuids[1] })).status, 200);
      const capped = await postAlive(app, { database_uuid: uuids[2] });
      assert.equal(capped.status, 429);
      assert.match(capped.body.message, /Too many new instances/);
      assert.equal(capped.headers.get('retry-after'), '3600');
      assert.equal(await instanceByUuid(db, uuids[2]), undefined);
      // Known instances still check in.
      assert.equal((await postAlive(app, { database_uuid: uuids[0] })).status, 200);
      clock.advance(3601);
      assert.equal((await postAlive(app, { database_uuid: uuids[2] })).status, 200);
    } finally {
      await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '20');
    }
  });

  it('counts an IPv6 /64 as one source for the registration cap, and IPv4-mapped addresses as their IPv4', async () => {
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '2');
    try {
      clock.advance(2 * 3600);
      const checkIns = app.get(CheckInService);
      const register = (source: string) => checkIns.findOrRegister(newUuid(), clock.now(), source);
      await register('2001:db8:1:2::1');
      await register('2001:db8:1:2:ffff::9');
      // Another address of the same /64 is the same subscriber.
      await assert.rejects(
        register('2001:db8:1:2:1234:5678:9abc:def0'),
        (error) => error instanceof RateLimitedException,
      );
      // The neighbouring /64 is someone else.
      await register('2001:db8:1:3::1');
      await register('198.51.100.7');
      await register('198.51.100.7');
      await assert.rejects(register('198.51.100.7'), (error) => error instanceof RateLimitedException);
      await register('198.51.100.8');
    } finally {
      await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '20');
    }
  });

  it('limits a flood of check-ins for one uuid but never drops a client checking in every minute', async () => {
    const flooded = newUuid();
    const statuses: number[] = [];
    for (let i = 0; i <= CHECKINS_PER_UUID_PER_MINUTE; i++)
      statuses.push((await postAlive(app, { database_uuid: flooded })).status);
    assert.deepEqual(
      statuses.slice(0, CHECKINS_PER_UUID_PER_MINUTE),
      Array(CHECKINS_PER_UUID_PER_MINUTE).fill(200),
    );
    const limited = await postAlive(app, jsonRpc({ database_uuid: flooded }));
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);

    // A well-behaved client (and its retries) for a simulated day: never refused.
    const steady = newUuid();
    for (let minute = 0; minute < 24 * 60; minute += 5) {
      clock.advance(300);
      assert.equal((await postAlive(app, jsonRpc({ database_uuid: steady }))).status, 200);
      if (minute % 60 === 0)
        assert.equal((await postAlive(app, jsonRpc({ database_uuid: steady }))).status, 200);
    }
  });

  it('limits the check-ins per source address when the setting asks for it', async () => {
    await app.get(SettingsService).set(SETTINGS.checkInsPerSourcePerMinute, '5');
    app.get(SourceRateLimiter).reload();
    try {
      clock.advance(600);
      const uuid = newUuid();
      for (let i = 0; i < 5; i++) assert.equal((await postAlive(app, { database_uuid: uuid })).status, 200);
      const limited = await postAlive(app, { database_uuid: newUuid() });
      assert.equal(limited.status, 429);
      assert.match(limited.body.message, /from this address/);
    } finally {
      await app.get(SettingsService).set(SETTINGS.checkInsPerSourcePerMinute, '1200');
      app.get(SourceRateLimiter).reload();
    }
  });
});

describe('POST /dead_mans_switch/alive with DEAD_MANS_SWITCH_ALLOWED_CIDRS', () => {
  let db: string;
  after(async () => {
    await dropDatabase(db);
  });

  it('refuses sources outside the allow-list with 403 and accepts those inside', async () => {
    db = await cloneTemplate();
    const outside = await startTestApp({
      databaseUrl: db,
      env: { DEAD_MANS_SWITCH_ALLOWED_CIDRS: '10.0.0.0/8, 2001:db8::/32' },
    });
    try {
      const refused = await postAlive(outside, { database_uuid: newUuid() });
      assert.equal(refused.status, 403);
      assert.match(refused.body.message, /not accepted from this address/);
      assert.equal(await count(db, 'dead_mans_switch_instance'), 0);
    } finally {
      await outside.close();
    }
    const inside = await startTestApp({
      databaseUrl: db,
      env: { DEAD_MANS_SWITCH_ALLOWED_CIDRS: '10.0.0.0/8,127.0.0.0/8' },
    });
    try {
      assert.equal((await postAlive(inside, { database_uuid: newUuid() })).status, 200);
      assert.equal(await count(db, 'dead_mans_switch_instance'), 1);
    } finally {
      await inside.close();
    }
  });

  it('refuses to start with a malformed CIDR, naming it', async () => {
    await assert.rejects(
      startTestApp({ databaseUrl: db, env: { DEAD_MANS_SWITCH_ALLOWED_CIDRS: '10.0.0.0/33' } }),
      /"10.0.0.0\/33" is not a CIDR/,
    );
  });
});
