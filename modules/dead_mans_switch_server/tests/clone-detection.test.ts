import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatterService, ManualClock } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { jsonRpc, newUuid, postAlive } from './helpers.js';

const A = '198.51.100.7';
const B = '203.0.113.9';
const C = '192.0.2.44';

/**
 * Issue 25 item 4: one database uuid checking in from two sources in turn (A, B, A) is a possible copy — flagged
 * once, one message to the followers — while a single move (A, B) is a migration. The app trusts one proxy
 * (TRUST_PROXY), so each check-in's source is its X-Forwarded-For.
 */
describe('clone detection', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-06-01T10:00:00Z'));

  /** One check-in of `uuid` from `source`, five minutes after the previous one. */
  async function checkIn(uuid: string, source: string): Promise<void> {
    clock.advance(300);
    const result = await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 2, user_count: 1 }), {
      'x-forwarded-for': source,
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
  }

  async function instanceOf(uuid: string) {
    const [{ id }] = await query<{ id: number }>(
      db,
      'SELECT id FROM dead_mans_switch_instance WHERE database_uuid = $1',
      [uuid],
    );
    const got = await admin.get(`/api/v1/dead_mans_switch/instances/${id}`);
    assert.equal(got.status, 200);
    return got.body as {
      id: number;
      possible_copy_since: string | null;
      possible_copy_sources: string[] | null;
    };
  }

  /** The possible-copy messages in the instance's chatter. */
  async function copyMessages(id: number): Promise<number> {
    const [{ n }] = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_message WHERE model = 'dead_mans_switch.instance' AND res_id = $1
         AND body->>'key' = 'dead_mans_switch_server.alerts.possible_copy_body'`,
      [id],
    );
    return n;
  }

  const cookies = (response: Response) => response.headers.getSetCookie().map((c) => c.split(';')[0]);
  let session: string | undefined;
  /** A web page as the admin sees it (signed in through the login form once). */
  async function webPage(path: string): Promise<string> {
    if (!session) {
      const form = await fetch(`${app.url}/web/login`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
      const login = await fetch(`${app.url}/web/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: cookies(form).join('; '), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ _csrf: csrf, email: ADMIN.email, password: ADMIN.password }),
      });
      session = cookies(login).find((c) => c.startsWith('vigil_session='));
      assert.ok(session, `signed in (HTTP ${login.status})`);
    }
    const response = await fetch(`${app.url}${path}`, { headers: { cookie: session } });
    assert.equal(response.status, 200);
    return response.text();
  }

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { TRUST_PROXY: '1' } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('A, B, A flags the instance once, with one chatter message to its followers, however long it goes on', async () => {
    const uuid = newUuid();
    await checkIn(uuid, A);
    const { id } = await instanceOf(uuid);
    const follower = await newUser(app);
    await app.get(ChatterService).follow({ model: 'dead_mans_switch.instance', id }, follower.partner_id);
    await checkIn(uuid, A);
    await checkIn(uuid, B);
    assert.equal((await instanceOf(uuid)).possible_copy_since, null, 'one move is not a copy');
    await checkIn(uuid, A);
    const flagged = await instanceOf(uuid);
    assert.equal(flagged.possible_copy_since, clock.now().toISOString());
    assert.deepEqual(flagged.possible_copy_sources, [A, B]);
    assert.equal(await copyMessages(id), 1);
    const [{ n: notified }] = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_notification n JOIN mail_message m ON m.id = n.message_id
       WHERE n.partner_id = $1 AND m.body->>'key' = 'dead_mans_switch_server.alerts.possible_copy_body'`,
      [follower.partner_id],
    );
    assert.ok(notified >= 1, 'the follower is notified');
    // The message says which sources, in each reader's language.
    const messages = await admin
      .withHeaders({ 'accept-language': 'fr' })
      .get(`/api/v1/threads/dead_mans_switch.instance/${id}/messages`);
    const body = (messages.body as { items: { body: string }[] }).items[0].body;
    assert.match(body, /Copie possible/);
    assert.ok(body.includes(A) && body.includes(B), body);

    const since = flagged.possible_copy_since;
    for (const source of [B, A, B, A, B]) await checkIn(uuid, source);
    assert.equal(await copyMessages(id), 1, 'flagged once');
    assert.equal((await instanceOf(uuid)).possible_copy_since, since);

    // The badge on the dashboard and the notice on the instance page.
    const dashboard = await webPage('/web/instances');
    assert.match(dashboard, /class="tag tag-open possible-copy">Possible copy</);
    const page = await webPage(`/web/instances/${id}`);
    assert.match(page, /id="possible-copy"/);
    assert.ok(page.includes(`${A} and ${B}`), 'the notice names both sources');
    assert.match(page, /id="possible-copy-clear"/);
  });

  it('a move to a new host (A, then B for good) is not a copy; nor are two moves (A, B, C)', async () => {
    const moved = newUuid();
    for (const source of [A, A, B, B, B]) await checkIn(moved, source);
    const twice = newUuid();
    for (const source of [A, B, C, C]) await checkIn(twice, source);
    for (const uuid of [moved, twice]) {
      const instance = await instanceOf(uuid);
      assert.equal(instance.possible_copy_since, null);
      assert.equal(await copyMessages(instance.id), 0);
    }
  });

  it('a return to the old source more than a day after the move is not a copy', async () => {
    const uuid = newUuid();
    await checkIn(uuid, A);
    await checkIn(uuid, B);
    clock.advance(25 * 3600);
    await checkIn(uuid, A);
    assert.equal((await instanceOf(uuid)).possible_copy_since, null);
  });

  it('a manager clears the flag; a new interleaving flags it again', async () => {
    const uuid = newUuid();
    for (const source of [A, B, A]) await checkIn(uuid, source);
    const { id, possible_copy_since } = await instanceOf(uuid);
    assert.ok(possible_copy_since);

    const viewer = await newUser(app, { roles: ['viewer'] });
    const asViewer = await new Api(app.url).login(viewer.email, viewer.password);
    assert.equal((await asViewer.post(`/api/v1/dead_mans_switch/instances/${id}/clear_copy`)).status, 403);
    const cleared = await admin.post(`/api/v1/dead_mans_switch/instances/${id}/clear_copy`);
    assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
    assert.equal((cleared.body as { possible_copy_since: string | null }).possible_copy_since, null);
    assert.equal((cleared.body as { possible_copy_sources: unknown }).possible_copy_sources, null);

    // The original alone after the clear (the copy got a new uuid): not flagged again.
    for (const source of [A, A, B]) await checkIn(uuid, source);
    assert.equal((await instanceOf(uuid)).possible_copy_since, null);
    await checkIn(uuid, A);
    const again = await instanceOf(uuid);
    assert.ok(again.possible_copy_since, 'flagged again');
    assert.equal(await copyMessages(id), 2);

    // The button on the instance page clears it too.
    const page = await webPage(`/web/instances/${id}`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const posted = await fetch(`${app.url}/web/instances/${id}/clear_copy`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session!, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }),
    });
    assert.equal(posted.status, 303);
    assert.equal((await instanceOf(uuid)).possible_copy_since, null);
    assert.doesNotMatch(await webPage(`/web/instances/${id}`), /id="possible-copy"/);
  });

  it('IPv6 addresses of one /64 are one source', async () => {
    const uuid = newUuid();
    for (const source of ['2001:db8:5:1::1', '2001:db8:5:1::2', '2001:db8:5:1::3', '2001:db8:5:1::2'])
      await checkIn(uuid, source);
    assert.equal((await instanceOf(uuid)).possible_copy_since, null);
    for (const source of ['2001:db8:5:2::1', '2001:db8:5:1::9']) await checkIn(uuid, source);
    assert.deepEqual((await instanceOf(uuid)).possible_copy_sources, [
      '2001:db8:5:1::/64',
      '2001:db8:5:2::/64',
    ]);
  });
});
