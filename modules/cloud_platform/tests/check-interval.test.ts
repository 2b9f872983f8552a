import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SchedulerService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';

const TASK = 'cloud_platform.environment_check';
const START = new Date('2026-01-05T03:00:00Z');

describe('cloud_platform: check_interval is honoured to the wake, not one period late', () => {
  const clock = new ManualClock(START);
  let db: string;
  let app: TestApp;

  /** Seconds after the start at which the scheduled checks made a report. */
  const scheduledAt = async (): Promise<number[]> =>
    (
      await query<{ checked_at: Date }>(
        db,
        "SELECT checked_at FROM cloud_platform_report WHERE trigger = 'schedule' ORDER BY checked_at",
      )
    ).map((r) => (r.checked_at.getTime() - START.getTime()) / 1000);

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
    const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const put = await admin.put('/api/v1/settings/cloud_platform.check_interval', { value: '60' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('with 60 s, the task waking every minute (a second after the report it made) runs at 60, 120, 180 s', async () => {
    // The start-up report is at 0 s. Each scheduled report is stamped 1 s after its wake (the time the checks
    // took), so the next wake comes 59 s after it: an exact comparison skipped it and ran at 60 and 180 s.
    for (const wake of [60, 120, 180]) {
      clock.set(new Date(START.getTime() + wake * 1000));
      const run = app.get(SchedulerService).runDue(TASK);
      clock.advance(1);
      await run;
    }
    assert.deepEqual(await scheduledAt(), [61, 121, 181]);
  });
});
