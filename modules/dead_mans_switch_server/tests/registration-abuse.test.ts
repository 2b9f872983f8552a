import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SettingsService } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { CheckInService } from '../checkin/checkin.service.js';
import { RateLimitedException } from '../checkin/rate-limited.exception.js';
import { SETTINGS } from '../settings.js';
import { count, instanceByUuid, newUuid, postAlive } from './helpers.js';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
}

/** Issue 22 item 5: registration abuse (global cap, purge of never-activated instances, check-in tokens). */
describe('registration abuse', () => {
  let app: TestApp;
  let db: string;
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
      env: { LOG_LEVEL: 'warn' },
      logDestination: sink,
    });
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
      assert.equal(await settings().get(SETTINGS.maxRegistrationsGlobalPerHour), '100');
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
});
