import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { freePort, spawnVigil } from '../harness/process.js';

/** A valid check-in padded to `bytes` with an ignored key (unknown keys are allowed). */
const checkIn = (bytes: number) => {
  const body = { database_uuid: randomUUID(), cpu: 1, ram: 2, user_count: 1, padding: '' };
  body.padding = 'x'.repeat(Math.max(0, bytes - JSON.stringify(body).length));
  return JSON.stringify(body);
};

const post = (url: string, path: string, body: string) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

// Every spelling the router takes for the alive route: percent-encoded letters, case, a trailing slash, a query.
const ALIVE_SPELLINGS = [
  '/dead_mans_switch/alive',
  '/dead_mans_switch/%61live',
  '/dead_mans_switch/%61%6C%69%76%65',
  '/%64ead_mans_switch/alive',
  '/DEAD_MANS_SWITCH/ALIVE',
  '/dead_mans_switch/alive/',
  '/dead_mans_switch/%61live?x=1',
];

describe('hardening (issue 22: RUNNING_ENV, /metrics, body limits)', () => {
  let db: string;
  before(async () => (db = await cloneTemplate()));
  after(() => dropDatabase(db));

  it('refuses an unknown RUNNING_ENV with exit code 78 and says which values are allowed', async () => {
    const vigil = spawnVigil({ RUNNING_ENV: 'production', DATABASE_URL: db, PORT: String(await freePort()) });
    // A process that took the value would serve on: stop it rather than wait for the runner's timeout.
    const serving = setTimeout(() => vigil.child.kill('SIGKILL'), 60_000);
    const code = await vigil.exited;
    clearTimeout(serving);
    assert.equal(code, 78, vigil.output());
    assert.match(
      vigil.output(),
      /RUNNING_ENV must be prod, integration, labs \(or labs…\), test or dev, got "production"/,
    );
  });

  describe('outside dev without METRICS_TOKEN', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ databaseUrl: db, env: { RUNNING_ENV: 'test', CLOUD_PLATFORM_UNSAFE: '1' } });
    });
    after(() => app?.close());

    it('answers /metrics with 403 and warns in the environment report', async () => {
      const scrape = await fetch(`${app.url}/metrics`, { headers: { 'accept-language': 'en' } });
      assert.equal(scrape.status, 403);
      const body = (await scrape.json()) as { message: string };
      assert.match(body.message, /set METRICS_TOKEN/);
      assert.equal(
        (await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer x' } })).status,
        403,
      );
      const check = app.vigil.environmentReport?.checks.find((c) => c.id === 'base.metrics_token');
      assert.equal(check?.status, 'warn');
      assert.deepEqual(check?.message, {
        key: 'environment.metrics_token.missing',
        args: { environment: 'test' },
      });
    });
  });

  it('outside dev with METRICS_TOKEN, serves /metrics to its bearer only', async () => {
    const app = await startTestApp({
      databaseUrl: db,
      env: {
        RUNNING_ENV: 'labs-feature-7',
        CLOUD_PLATFORM_UNSAFE: '1',
        METRICS_TOKEN: 'scrape-me-please-42',
      },
    });
    try {
      assert.equal((await fetch(`${app.url}/metrics`)).status, 401);
      const ok = await fetch(`${app.url}/metrics`, {
        headers: { authorization: 'Bearer scrape-me-please-42' },
      });
      assert.equal(ok.status, 200);
      assert.equal(
        app.vigil.environmentReport?.checks.find((c) => c.id === 'base.metrics_token')?.status,
        'ok',
      );
    } finally {
      await app.close();
    }
  });

  describe('the check-in endpoint, however its path is spelled', () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ databaseUrl: db });
    });
    after(() => app?.close());

    it("refuses a body over the alive route's 16 KiB with 413 on every spelling of the route", async () => {
      for (const path of ALIVE_SPELLINGS) {
        const small = await post(app.url, path, checkIn(1000));
        assert.equal(small.status, 200, `${path} is the alive route`);
        const big = await post(app.url, path, checkIn(17 * 1024));
        assert.equal(big.status, 413, `${path}: ${await big.text()}`);
      }
      // A doubled slash is not the alive route (404); its body is not read beyond the smallest limit either.
      const doubled = await post(app.url, '//dead_mans_switch/alive', checkIn(17 * 1024));
      assert.ok([404, 413].includes(doubled.status), String(doubled.status));
    });

    it('applies the check-in defences (allowed networks) on every spelling of the route', async () => {
      const fenced = await startTestApp({
        databaseUrl: db,
        env: { DEAD_MANS_SWITCH_ALLOWED_CIDRS: '10.0.0.0/8' },
      });
      try {
        for (const path of ALIVE_SPELLINGS)
          assert.equal((await post(fenced.url, path, checkIn(100))).status, 403, path);
      } finally {
        await fenced.close();
      }
    });
  });
});
