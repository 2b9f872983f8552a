import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ManualClock, SchedulerService, SettingsService } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { waitFor } from '../../../test/harness/wait.js';
import { CHECK_IN_TASK } from '../client-settings.js';
import { DeadMansSwitchClientService } from '../dead-mans-switch-client.service.js';
import { FakeSwitchServer } from './fake-switch-server.js';

describe('dead_mans_switch_client: several replicas send one check-in per interval', () => {
  const clock = new ManualClock(new Date('2025-03-03T10:00:00Z'));
  let db: string;
  let server: FakeSwitchServer;
  let replicas: TestApp[];

  before(async () => {
    db = await cloneTemplate();
    server = await FakeSwitchServer.start();
    replicas = [
      await startTestApp({ databaseUrl: db, clock }),
      await startTestApp({ databaseUrl: db, clock }),
    ];
    await replicas[0]
      .get(SettingsService)
      .set('dead_mans_switch_client.url', `${server.url}/dead_mans_switch/alive`);
  });

  after(async () => {
    await Promise.all((replicas ?? []).map((app) => app.close()));
    await server?.close();
    await dropDatabase(db);
  });

  beforeEach(async () => {
    clock.advance(3600);
    server.requests.length = 0;
    server.behaviour = 'odoo';
    await query(
      db,
      `UPDATE dead_mans_switch_client_state
       SET last_attempt_at = NULL, last_success_at = NULL, consecutive_failures = 0, last_error_key = NULL`,
    );
  });

  it('lets exactly one of many concurrent decisions send', async () => {
    const now = clock.now();
    const attempts = await Promise.all(
      [...replicas, ...replicas, ...replicas].map((app) =>
        app.get(DeadMansSwitchClientService).runIfDue(now),
      ),
    );
    assert.equal(attempts.filter(Boolean).length, 1);
    assert.equal(server.requests.length, 1);
  });

  it('sends one check-in per interval when every replica runs the schedule', async () => {
    const start = clock.now();
    // 20 minutes of 15-second ticks, both replicas polling each tick at the same time.
    for (let elapsed = 0; elapsed <= 1200; elapsed += 15) {
      clock.set(new Date(start.getTime() + elapsed * 1000));
      await Promise.all(replicas.map((app) => app.get(SchedulerService).runDue(CHECK_IN_TASK)));
    }
    assert.equal(server.requests.length, 5, 'at 0, 300, 600, 900 and 1200 s');
  });

  it('does not start a second send while a slow one is in flight, even when a retry is due', async () => {
    // The slow send ends when the test answers it, not when a real timer runs out: the 30 s send timeout is only
    // a bound. It sets the lease: 30 + 30 s of the test's clock from the retry.
    await replicas[0].get(SettingsService).set('dead_mans_switch_client.send_timeout', '30');
    try {
      // A first failure makes the next attempt due 30 s later, sooner than a slow send's lease ends.
      server.behaviour = 'http_500';
      await replicas[0].get(DeadMansSwitchClientService).runIfDue(clock.now());
      server.behaviour = 'hang';
      const retryAt = clock.advance(30);
      const slow = replicas[0].get(DeadMansSwitchClientService).runIfDue(retryAt);
      await waitFor(() => server.requests.length >= 2, {
        what: 'the slow retry to reach the switch server (a second request)',
      });
      // The next retry is due 30 s after the slow one started, its lease ends after 60 s: in between, only the
      // lease holds the other replica back.
      clock.advance(45);
      assert.equal(await replicas[1].get(DeadMansSwitchClientService).runIfDue(clock.now()), false);
      assert.equal(server.requests.length, 2, 'no second send while the slow one is in flight');
      server.answerHeld();
      assert.equal(await slow, true);
      assert.equal(server.requests.length, 2);
    } finally {
      server.answerHeld();
      await replicas[0].get(SettingsService).set('dead_mans_switch_client.send_timeout', '60');
    }
  });
});
