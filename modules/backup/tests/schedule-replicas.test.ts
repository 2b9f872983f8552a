import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ManualClock, SchedulerService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { BackupRunner } from '../backup-runner.service.js';
import { StorageRepository } from '../storage.repository.js';
import { BACKUP_ENV, configBody } from './helpers.js';

const CONFIGS = '/api/v1/backup/configs';
const BACKUPS = '/api/v1/backup/backups';
const STEP_SECONDS = 30 * 60;

const brussels = (date: Date) => date.toLocaleString('sv-SE', { timeZone: 'Europe/Brussels' }).slice(0, 16);

describe('backup: scheduled runs across replicas and DST, leases of dead runs', () => {
  let db: string;
  let first: TestApp;
  let second: TestApp;
  let admin: Api;
  const restored: string[] = [];
  const clock = new ManualClock(new Date('2025-03-28T12:00:00Z'));

  /** Both replicas run the scheduled pass at the same instant, every half hour, until `until`. */
  async function race(until: string): Promise<void> {
    while (clock.now() < new Date(until)) {
      clock.advance(STEP_SECONDS);
      await Promise.all([first, second].map((app) => app.get(BackupRunner).tick(clock.now())));
    }
  }

  async function backupsOf(configId: number) {
    return query<{ id: number; status: string; started_at: Date; error: string | null }>(
      db,
      'SELECT id, status, started_at, error FROM backup_backup WHERE config_id = $1 ORDER BY id',
      [configId],
    );
  }

  before(async () => {
    db = await cloneTemplate();
    // Replicas share the data folder (local storage), as they would share a volume.
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-replicas-'));
    [first, second] = await Promise.all(
      [0, 1].map(() => startTestApp({ databaseUrl: db, clock, env: { ...BACKUP_ENV, DATA_DIR: dataDir } })),
    );
    admin = await new Api(first.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await first?.close();
    await second?.close();
    for (const name of restored) await dropDatabase(db.replace(/\/[^/]+$/, `/${name}`));
    await dropDatabase(db);
  });

  it('runs 0 3 * * * in Europe/Brussels once at 03:00 local around both DST changes, and each file restores', async () => {
    const config = (await admin.post(CONFIGS, configBody({ name: 'DST' }))).body;
    await race('2025-04-01T12:00:00Z');
    await admin.patch(`${CONFIGS}/${config.id}`, { active: false });
    clock.set(new Date('2025-10-24T12:00:00Z'));
    await admin.patch(`${CONFIGS}/${config.id}`, { active: true });
    await race('2025-10-28T12:00:00Z');

    const runs = await backupsOf(config.id);
    assert.deepEqual(
      runs.map((r) => [brussels(r.started_at), r.started_at.toISOString(), r.status]),
      [
        ['2025-03-29 03:00', '2025-03-29T02:00:00.000Z', 'done'],
        ['2025-03-30 03:00', '2025-03-30T01:00:00.000Z', 'done'], // first day of summer time
        ['2025-03-31 03:00', '2025-03-31T01:00:00.000Z', 'done'],
        ['2025-04-01 03:00', '2025-04-01T01:00:00.000Z', 'done'],
        ['2025-10-25 03:00', '2025-10-25T01:00:00.000Z', 'done'],
        ['2025-10-26 03:00', '2025-10-26T02:00:00.000Z', 'done'], // first day of winter time
        ['2025-10-27 03:00', '2025-10-27T02:00:00.000Z', 'done'],
        ['2025-10-28 03:00', '2025-10-28T02:00:00.000Z', 'done'],
      ],
    );
    for (const run of runs) {
      const into = `dst_${process.pid}_${run.id}`;
      restored.push(into);
      const result = await admin.post(`${BACKUPS}/${run.id}/restore`, { into });
      assert.equal(result.status, 201, JSON.stringify(result.body));
      const copy = db.replace(/\/[^/]+$/, `/${into}`);
      const [row] = await query<{ n: number }>(
        copy,
        'SELECT count(*)::int AS n FROM backup_config WHERE id = $1',
        [config.id],
      );
      assert.equal(row.n, 1);
    }
  });

  it('fails a run whose process died once its lease expires, and the next scheduled run happens', async () => {
    const config = (
      await admin.post(CONFIGS, configBody({ name: 'Crashy', cron: '0 * * * *', time_zone: 'UTC' }))
    ).body;
    // A replica started this run and died: its row is running, and it stopped renewing the lease.
    const [dead] = await query<{ id: number }>(
      db,
      `INSERT INTO backup_backup (config_id, status, trigger, storage, object_key, database_name, started_at, lease_until)
       VALUES ($1, 'running', 'schedule', 'local', 'dead.dump', 'x', $2, $3) RETURNING id`,
      [config.id, new Date(clock.now().getTime() - 60_000), new Date(clock.now().getTime() + 30_000)],
    );
    // What it had written so far.
    const partial = join(first.get(StorageRepository).localRoot, 'dead.dump.partial');
    await mkdir(dirname(partial), { recursive: true });
    await writeFile(partial, 'PGDMP half a dump');
    // The lease still runs: nothing is touched, and the manual run is refused (one run at a time).
    await first.get(BackupRunner).tick(clock.now());
    assert.equal((await backupsOf(config.id)).find((b) => b.id === dead.id)?.status, 'running');
    const refused = await admin.post(`${CONFIGS}/${config.id}/run`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /already running/);

    clock.set(new Date(Math.ceil((clock.now().getTime() + 1) / 3_600_000) * 3_600_000));
    assert.equal(await second.get(SchedulerService).runDue('backup.scheduler'), true);
    const runs = await backupsOf(config.id);
    assert.equal(runs.length, 2);
    assert.equal(runs[0].status, 'failed');
    assert.match(runs[0].error ?? '', /stopped renewing its lease/);
    assert.equal(existsSync(partial), false, 'the dead run leaves no partial file');
    assert.equal(runs[1].status, 'done', runs[1].error ?? '');
    const failures = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
       WHERE m.model = 'backup.config' AND m.res_id = $1 AND s.key = 'backup.mt_backup_failed'`,
      [config.id],
    );
    assert.equal(failures[0].n, 1);
  });
});
