import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { spawnVigil } from '../../../test/harness/process.js';
import { closedPortUrl, FakeSwitchServer } from './fake-switch-server.js';

describe('npx vigil dms:alive', () => {
  let db: string;
  let server: FakeSwitchServer;
  const env = () => ({
    DATABASE_URL: db,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-cli-')),
    SESSION_SECRET: 'x'.repeat(40),
  });

  before(async () => {
    db = await cloneTemplate();
    server = await FakeSwitchServer.start();
  });

  after(async () => {
    await server.close();
    await dropDatabase(db);
  });

  it('sends one check-in now and prints the answer', async () => {
    const [{ value: uuid }] = await query<{ value: string }>(
      db,
      "SELECT value FROM setting WHERE key = 'database.uuid'",
    );
    const cli = spawnVigil(
      { ...env(), DEAD_MANS_SWITCH_CLIENT_URL: `${server.url}/dead_mans_switch/alive` },
      ['dms:alive'],
    );
    assert.equal(await cli.exited, 0, cli.output());
    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0].json.params.database_uuid, uuid);
    assert.match(cli.output(), /^Answer: \{"jsonrpc":"2\.0","id":null,"result":/m);
  });

  it('exits 1 with the reason when the server cannot be reached', async () => {
    const cli = spawnVigil({ ...env(), DEAD_MANS_SWITCH_CLIENT_URL: await closedPortUrl() }, ['dms:alive']);
    assert.equal(await cli.exited, 1);
    assert.match(cli.output(), /Check-in failed: /);
  });
});
