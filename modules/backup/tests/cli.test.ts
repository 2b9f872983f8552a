import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { spawnVigil } from '../../../test/harness/process.js';
import { BACKUP_ENV, sha256File } from './helpers.js';

describe('npx vigil backup:run and backup:restore', () => {
  let db: string;
  let copy: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-backup-cli-'));
  const env = () => ({ ...BACKUP_ENV, DATABASE_URL: db, DATA_DIR: dataDir, SESSION_SECRET: 'x'.repeat(40) });

  before(async () => {
    db = await cloneTemplate();
    copy = db.replace(/\/([^/]+)$/, '/$1_cli_copy');
  });

  after(async () => {
    await dropDatabase(copy);
    await dropDatabase(db);
  });

  it('backs up a configuration, then restores the backup into a new database and refuses an existing one', async () => {
    const [config] = await query<{ id: number }>(
      db,
      `INSERT INTO backup_config (name, cron, time_zone, storage, prefix, encryption_env)
       VALUES ('CLI', '0 3 * * *', 'UTC', 'local', 'cli', 'BACKUP_PASSPHRASE')
       RETURNING id`,
    );
    const run = spawnVigil(env(), ['backup:run', String(config.id)]);
    assert.equal(await run.exited, 0, run.output());
    const match = /Backup (\d+) done and verified: (\S+), (\d+) bytes, sha256 ([0-9a-f]{64})/.exec(
      run.output(),
    );
    assert.ok(match, run.output());
    const [, id, key, , sha] = match;
    // Not a terminal: plain progress lines (bytes, rate, elapsed).
    assert.match(run.output(), /^dumped: \d+\.\d MiB, [\d.]+ MiB\/s, \d\d:\d\d$/m);
    assert.equal(await sha256File(join(dataDir, 'backups', key)), sha);

    const into = new URL(copy).pathname.slice(1);
    const restore = spawnVigil(env(), ['backup:restore', id, '--into', into]);
    assert.equal(await restore.exited, 0, restore.output());
    assert.match(restore.output(), /^restored: \d+\.\d MiB, [\d.]+ MiB\/s, \d\d:\d\d$/m);
    assert.match(restore.output(), new RegExp(`Restored backup ${id} into ${into}; 1 backup configuration`));
    const [row] = await query<{ active: boolean }>(copy, 'SELECT active FROM backup_config WHERE id = $1', [
      config.id,
    ]);
    assert.equal(row.active, false);

    const again = spawnVigil(env(), ['backup:restore', id, '--into', into]);
    assert.equal(await again.exited, 1);
    assert.match(again.output(), new RegExp(`The database ${into} already exists`));
  });
});
