import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SecretKeys } from '../../src/database/secret-keys.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { ADMIN, startTestApp, TEST_SESSION_SECRET, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';
import { webSignIn } from '../harness/sign-in.js';

/** An HS256 JWT signed with `key`, as anyone holding that key could make one. */
function hs256(payload: object, key: string | Buffer): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** 200 when the cookie is a live session; a redirect to the sign-in page otherwise. */
const webInbox = (url: string, cookie: string) =>
  fetch(`${url}/web/inbox`, { redirect: 'manual', headers: { cookie } }).then((r) => r.status);

describe('sessions and tokens (issue 22 item 7)', () => {
  let db: string;
  let app: TestApp;
  let anonymous: Api;
  let admin: Api;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    anonymous = new Api(app.url);
    admin = await anonymous.login(ADMIN.email, ADMIN.password);
  });
  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('does not take the web cookie token as an API bearer, nor an API token as a web session', async () => {
    const user = await newUser(app, { roles: ['manager'] });
    const cookie = await webSignIn(app.url, user.email, user.password);
    assert.equal(await webInbox(app.url, cookie), 200);
    const cookieToken = decodeURIComponent(cookie.split('=')[1]);
    assert.equal((await anonymous.as(cookieToken).get('/api/v1/me')).status, 401);
    const signed = await anonymous.post('/api/v1/auth/login', { email: user.email, password: user.password });
    const token = signed.body.access_token as string;
    assert.equal((await anonymous.as(token).get('/api/v1/me')).status, 200);
    assert.equal(await webInbox(app.url, `vigil_session=${token}`), 303);
  });

  it('signing out (API or web) ends every access token and web session of the user, not the API keys', async () => {
    const user = await newUser(app, { roles: ['viewer'] });
    const first = await anonymous.login(user.email, user.password);
    const second = await anonymous.login(user.email, user.password);
    const cookie = await webSignIn(app.url, user.email, user.password);
    const key = await first.post('/api/v1/me/api-keys', { name: 'script' });
    const withKey = anonymous.as(key.body.token as string);

    assert.equal((await first.post('/api/v1/auth/logout')).status, 204);
    assert.equal((await first.get('/api/v1/me')).status, 401, 'the token that signed out');
    assert.equal((await second.get('/api/v1/me')).status, 401, 'another token of the user');
    assert.equal(await webInbox(app.url, cookie), 303, 'the web session');
    assert.equal((await withKey.get('/api/v1/me')).status, 200, 'API keys are not sessions');
    // The sign-in page does not send a revoked session round in circles.
    const loginPage = await fetch(`${app.url}/web/login`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(loginPage.status, 200);

    // The web UI's sign-out does the same for API tokens.
    const token = await anonymous.login(user.email, user.password);
    const session = await webSignIn(app.url, user.email, user.password);
    const inbox = await fetch(`${app.url}/web/inbox`, { headers: { cookie: session } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await inbox.text())?.[1];
    assert.ok(csrf, 'the page carries its CSRF token');
    const out = await fetch(`${app.url}/web/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    assert.equal(out.status, 303);
    assert.equal((await token.get('/api/v1/me')).status, 401);
    assert.equal(await webInbox(app.url, session), 303);

    // A revoked key stops at once.
    assert.equal((await withKey.get('/api/v1/me')).status, 200);
    const fresh = await anonymous.login(user.email, user.password);
    assert.equal((await fresh.delete(`/api/v1/me/api-keys/${key.body.id}`)).status, 204);
    assert.equal((await withKey.get('/api/v1/me')).status, 401);
  });

  it("a password change by an administrator ends the user's sessions; deactivation too, for good", async () => {
    const user = await newUser(app, { roles: ['manager'] });
    const before = await anonymous.login(user.email, user.password);
    const cookie = await webSignIn(app.url, user.email, user.password);
    assert.equal(
      (await admin.patch(`/api/v1/users/${user.id}`, { password: 'a-new-password-1' })).status,
      200,
    );
    assert.equal((await before.get('/api/v1/me')).status, 401);
    assert.equal(await webInbox(app.url, cookie), 303);
    const after = await anonymous.login(user.email, 'a-new-password-1');
    assert.equal((await after.get('/api/v1/me')).status, 200);

    assert.equal((await admin.patch(`/api/v1/users/${user.id}`, { active: false })).status, 200);
    assert.equal((await after.get('/api/v1/me')).status, 401, 'a deactivated user is refused');
    assert.equal((await admin.patch(`/api/v1/users/${user.id}`, { active: true })).status, 200);
    assert.equal((await after.get('/api/v1/me')).status, 401, 'and reactivation does not revive old tokens');
  });

  it("an administrator's own password change ends their other sessions", async () => {
    const me = await admin.get('/api/v1/me');
    const other = await anonymous.login(ADMIN.email, ADMIN.password);
    const changed = await other.patch(`/api/v1/users/${me.body.id}`, { password: ADMIN.password });
    assert.equal(changed.status, 200);
    assert.equal((await admin.get('/api/v1/me')).status, 401);
    admin = await anonymous.login(ADMIN.email, ADMIN.password);
  });

  it('signs tokens with a key derived for that purpose, not with SESSION_SECRET itself', async () => {
    const user = await newUser(app, { roles: ['manager'] });
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: user.id, ver: 0, typ: 'api', iat: now, exp: now + 600 };
    // Whoever learns the master secret from a leak of one purpose's use cannot mint tokens with it directly.
    assert.equal((await anonymous.as(hs256(payload, TEST_SESSION_SECRET)).get('/api/v1/me')).status, 401);
    const derived = new SecretKeys(TEST_SESSION_SECRET).key('session');
    assert.equal(
      (await anonymous.as(hs256(payload, derived)).get('/api/v1/me')).status,
      200,
      'the same claims',
    );
  });
});

describe('sign-in limits (issue 22 item 8)', () => {
  let db: string;
  let clock: ManualClock;
  let one: TestApp;
  let two: TestApp;

  before(async () => {
    db = await cloneTemplate();
    clock = new ManualClock(new Date());
    // Two replicas of one database, with one clock.
    one = await startTestApp({ databaseUrl: db, clock });
    two = await startTestApp({ databaseUrl: db, clock });
  });
  after(async () => {
    await one?.close();
    await two?.close();
    await dropDatabase(db);
  });

  const login = (app: TestApp, email: string, password: string) =>
    new Api(app.url).post('/api/v1/auth/login', { email, password });

  it('costs the same work for an unknown e-mail as for a known one (CPU time of the server process)', async () => {
    const user = await newUser(one, { roles: ['viewer'] });
    const cpu = async (attempts: () => Promise<void>) => {
      const start = process.cpuUsage();
      await attempts();
      const used = process.cpuUsage(start);
      return used.user + used.system;
    };
    // Four of each: within the free failures of an account and the address's limit.
    const known = await cpu(async () => {
      for (let i = 0; i < 4; i++) assert.equal((await login(one, user.email, `wrong-${i}-x`)).status, 401);
    });
    const unknown = await cpu(async () => {
      for (let i = 0; i < 4; i++)
        assert.equal((await login(one, `ghost-${i}@vigil.test`, `wrong-${i}-x`)).status, 401);
    });
    // An argon2 verification is most of a failed sign-in; without one, an unknown e-mail costs a few percent.
    assert.ok(unknown > known * 0.5, `unknown e-mails used ${unknown} µs of CPU, known ones ${known} µs`);
  });

  it('makes an account wait after repeated failures, on every replica, with a growing delay reset by success', async () => {
    clock.advance(60); // a new minute for the per-address limit, which the test above used
    const user = await newUser(one, { roles: ['viewer'] });
    const replicas = [one, two];
    // Four free failures, alternating replicas; the fifth is answered and makes the next wait 1 s.
    for (let i = 0; i < 5; i++)
      assert.equal(
        (await login(replicas[i % 2], user.email, `wrong-${i}-x`)).status,
        401,
        `failure ${i + 1}`,
      );
    const waiting = await login(two, user.email, user.password);
    assert.equal(waiting.status, 429, 'even the right password waits, on the other replica too');
    assert.equal(waiting.headers.get('retry-after'), '1');
    assert.match(waiting.body.message, /wait 1 s/);
    clock.advance(1);
    assert.equal((await login(one, user.email, 'wrong-again-x')).status, 401);
    assert.equal((await login(two, user.email, user.password)).headers.get('retry-after'), '2');
    clock.advance(2);
    assert.equal((await login(two, user.email, user.password)).status, 200, 'the wait is over');
    // A success forgets the failures: the next mistake is the first again.
    assert.equal((await login(one, user.email, 'wrong-later-x')).status, 401);
    assert.equal((await login(two, user.email, user.password)).status, 200);
  });

  it("does not lock an office's shared address out with its own successful sign-ins; failures are limited", async () => {
    clock.advance(60);
    const user = await newUser(two, { roles: ['viewer'] });
    for (let i = 0; i < 15; i++)
      assert.equal((await login(two, user.email, user.password)).status, 200, `${i}`);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await login(two, `guess-${i}@vigil.test`, 'guess-x')).status);
    assert.deepEqual(statuses, [...Array(10).fill(401), 429]);
    clock.advance(60);
    assert.equal((await login(two, user.email, user.password)).status, 200, 'a minute later');
  });
});
