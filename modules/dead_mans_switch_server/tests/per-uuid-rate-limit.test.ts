import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { PerUuidRateLimiter, type InstanceEndpoint as Endpoint } from '../checkin/per-uuid-rate-limiter.js';
import { CHECKINS_PER_UUID_PER_MINUTE } from '../settings.js';
import { jsonRpc, newUuid, postInstanceEndpoint } from './helpers.js';

/**
 * The per-uuid limit of the endpoints instances call (`PerUuidRateLimiter`): each endpoint has its own budget of
 * `CHECKINS_PER_UUID_PER_MINUTE` a minute per uuid, and its own 429 message, with `Retry-After`.
 */
describe('dead_mans_switch per-uuid rate limit of alive, cancel, event and start', () => {
  let app: TestApp;
  let db: string;
  // The clock stands still unless told: a budget refills only when the test moves it.
  const clock = new ManualClock(new Date('2025-04-01T09:00:00Z'));

  const bodyFor = (endpoint: Endpoint, uuid: string) =>
    endpoint === 'event'
      ? { database_uuid: uuid, level: 'info', message: 'nightly job ran' }
      : { database_uuid: uuid };
  const post = (endpoint: Endpoint, uuid: string) =>
    postInstanceEndpoint(app, endpoint, bodyFor(endpoint, uuid));

  /** Spends the uuid's whole budget of `endpoint` (each call answered 200), then checks the next one's 429. */
  async function exhaust(endpoint: Endpoint, uuid: string, spent = 0): Promise<void> {
    for (let i = spent; i < CHECKINS_PER_UUID_PER_MINUTE; i++) {
      const reply = await post(endpoint, uuid);
      assert.equal(reply.status, 200, `${endpoint} #${i + 1}: ${JSON.stringify(reply.body)}`);
    }
    await assertLimited(endpoint, uuid);
  }

  /** The endpoint's own 429: its message, and `Retry-After` the seconds one request takes to come back (2 s). */
  async function assertLimited(endpoint: Endpoint, uuid: string): Promise<void> {
    // In the JSON-RPC form too (`exhaust` sends plain JSON): a 429, not an Odoo error reply.
    const reply = await postInstanceEndpoint(app, endpoint, jsonRpc(bodyFor(endpoint, uuid)));
    assert.equal(reply.status, 429, `${endpoint}: ${JSON.stringify(reply.body)}`);
    assert.equal(reply.headers.get('retry-after'), String(60 / CHECKINS_PER_UUID_PER_MINUTE));
    const what = endpoint === 'event' ? 'events' : 'check-ins';
    assert.deepEqual(reply.body, {
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Too many ${what} for this database: retry in ${60 / CHECKINS_PER_UUID_PER_MINUTE} seconds`,
    });
  }

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock });
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('gives each endpoint its own budget per uuid: a flood of check-ins leaves start, event and cancel open', async () => {
    const flooded = newUuid();
    const other = newUuid();
    await exhaust('alive', flooded);

    // The same uuid, within the same (frozen) minute: every other endpoint still answers.
    assert.equal((await post('start', flooded)).status, 200);
    assert.equal((await post('event', flooded)).status, 200);
    // Another uuid is not touched by the flood.
    assert.equal((await post('alive', other)).status, 200);

    // Each of the others has its whole budget, and is limited in its turn with its own message.
    await exhaust('start', flooded, 1);
    await exhaust('event', flooded, 1);
    await exhaust('cancel', flooded);
    // Still the other uuid's budget, on every endpoint.
    for (const endpoint of ['start', 'event', 'cancel', 'alive'] as const)
      assert.equal((await post(endpoint, other)).status, 200, endpoint);

    // A request comes back after Retry-After, on each endpoint.
    await assertLimited('alive', flooded);
    clock.advance(60 / CHECKINS_PER_UUID_PER_MINUTE);
    for (const endpoint of ['alive', 'start', 'event', 'cancel'] as const) {
      assert.equal((await post(endpoint, flooded)).status, 200, endpoint);
      await assertLimited(endpoint, flooded);
    }
  });

  it('is one limiter, the one the addon provides, for all four endpoints', async () => {
    const limiter = app.get(PerUuidRateLimiter);
    for (const endpoint of ['alive', 'start', 'event', 'cancel'] as const) {
      const uuid = newUuid();
      // An unknown uuid registers on alive; the others need it known (cancel) or register it.
      assert.equal((await post('alive', uuid)).status, 200);
      const spent = endpoint === 'alive' ? 1 : 0;
      for (let i = spent; i < CHECKINS_PER_UUID_PER_MINUTE; i++) limiter.take(endpoint, uuid, clock.now());
      await assertLimited(endpoint, uuid);
    }
  });
});
