import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { freePort, spawnVigil, waitForHttp, type VigilProcess } from '../harness/process.js';
import { waitFor } from '../harness/wait.js';

/** The processes whose parent is `pid`, from /proc. */
function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return found.sort();
}

describe('WEB_CONCURRENCY: several HTTP workers in one server', () => {
  let db: string;
  let server: VigilProcess | undefined;

  before(async () => {
    db = await cloneTemplate();
  });

  after(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    await dropDatabase(db);
  });

  it('runs two workers on one port, replaces one that dies, and stops them all on SIGTERM', async () => {
    const port = await freePort();
    server = spawnVigil({ DATABASE_URL: db, PORT: String(port), WEB_CONCURRENCY: '2' });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/monitoring/ready`, server);
    const primary = server.child.pid!;
    const first = await waitFor(() => (children(primary).length === 2 ? children(primary) : undefined), {
      what: 'two workers',
    });
    const answers = await Promise.all(Array.from({ length: 40 }, () => fetch(`${url}/monitoring/status`)));
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);

    // A worker killed outright is replaced; the other keeps serving meanwhile.
    process.kill(first[0], 'SIGKILL');
    assert.equal((await fetch(`${url}/monitoring/status`)).status, 200);
    const replaced = await waitFor(
      () => {
        const now = children(primary);
        return now.length === 2 && !now.includes(first[0]) ? now : undefined;
      },
      { what: 'a new worker in place of the killed one' },
    );
    assert.ok(replaced.includes(first[1]));
    await waitForHttp(`${url}/monitoring/ready`, server);

    server.child.kill('SIGTERM');
    const code = await server.exited;
    assert.ok(code === 0 || code === 143, `primary exit ${code}\n${server.output()}`);
    assert.deepEqual(
      replaced.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      }),
      [],
      'no worker outlives the primary',
    );
  });

  it('refuses a WEB_CONCURRENCY that is not a count or auto', async () => {
    const refused = spawnVigil({ DATABASE_URL: db, PORT: String(await freePort()), WEB_CONCURRENCY: 'lots' });
    assert.equal(await refused.exited, 78);
    assert.match(refused.output(), /WEB_CONCURRENCY must be a whole number from 1 to 64 or "auto"/);
  });
});
