import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { Api } from '../harness/http.js';
import { spawnVigil } from '../harness/process.js';

const LONG = 'N'.repeat(300);
/** What a translation key looks like (`core.validation.max_length`): never shown to a user. */
const RAW_KEY = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.[a-z0-9_]+\.[a-z0-9_]+\b/;
const INSTANCES = '/api/v1/dead_mans_switch/instances';
const WINDOWS = '/api/v1/dead_mans_switch/maintenance_windows';

/** The 400 a too-long or blank text gets: names the field, says the limit, shows no translation key. */
function assertRefused(result: { status: number; body: any }, field: string, pattern: RegExp): void {
  assert.equal(result.status, 400, JSON.stringify(result.body));
  const errors = result.body.errors as { field: string; message: string }[];
  const own = errors.filter((e) => e.field === field);
  assert.equal(own.length, 1, `one message for ${field}: ${JSON.stringify(errors)}`);
  assert.match(own[0].message, pattern);
  assert.doesNotMatch(result.body.message, RAW_KEY);
}

async function count(db: string, table: string): Promise<number> {
  const [row] = await query<{ n: string }>(db, `SELECT count(*) AS n FROM ${table}`);
  return Number(row.n);
}

describe('server-side validation: trimmed, blank refused, never cut, check-in values flagged', () => {
  let app: TestApp;
  let db: string;
  let admin: Api;
  let instanceId: number;
  const uuid = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const alive = await new Api(app.url).post('/dead_mans_switch/alive', { database_uuid: uuid });
    assert.equal(alive.status, 200);
    const [row] = await query<{ id: number }>(db, 'SELECT id FROM dead_mans_switch_instance');
    instanceId = row.id;
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  it('refuses a 300-character name with a 400 that names the field and the maximum, storing nothing', async () => {
    const before = {
      partner: await count(db, 'partner'),
      users: await count(db, 'users'),
      channels: await count(db, 'mail_channel'),
      windows: await count(db, 'dead_mans_switch_maintenance'),
    };
    assertRefused(await admin.post('/api/v1/partners', { name: LONG }), 'name', /^name .*at most 200 /);
    assertRefused(
      await admin.post('/api/v1/users', { email: 'long@vigil.test', password: 'password-1', name: LONG }),
      'name',
      /at most 200 /,
    );
    assertRefused(
      await admin.post('/api/v1/me/channels', {
        kind: 'webhook',
        name: LONG,
        settings: { url: 'https://hooks.example.com/x' },
      }),
      'name',
      /at most 100 /,
    );
    assertRefused(
      await admin.post(WINDOWS, {
        instance_id: instanceId,
        description: LONG,
        starts_at: '2030-01-01T00:00:00Z',
        ends_at: '2030-01-01T01:00:00Z',
      }),
      'description',
      /at most 200 /,
    );
    assertRefused(
      await admin.patch(`${INSTANCES}/${instanceId}`, { description: LONG }),
      'description',
      /200/,
    );
    assertRefused(await admin.post('/api/v1/me/api-keys', { name: LONG }), 'name', /at most 100 /);
    assert.deepEqual(
      {
        partner: await count(db, 'partner'),
        users: await count(db, 'users'),
        channels: await count(db, 'mail_channel'),
        windows: await count(db, 'dead_mans_switch_maintenance'),
      },
      before,
    );
    const [instance] = await query<{ description: string | null }>(
      db,
      'SELECT description FROM dead_mans_switch_instance WHERE id = $1',
      [instanceId],
    );
    assert.equal(instance.description, null);
  });

  it('refuses a blank name ("   ") with a 400 that names the field', async () => {
    assertRefused(await admin.post('/api/v1/partners', { name: '   ' }), 'name', /^name must not be empty$/);
    assertRefused(
      await admin.post('/api/v1/users', { email: 'blank@vigil.test', password: 'password-1', name: ' \t ' }),
      'name',
      /must not be empty/,
    );
    assertRefused(
      await admin.post('/api/v1/me/channels', { kind: 'webhook', name: '   ', settings: {} }),
      'name',
      /must not be empty/,
    );
    assertRefused(
      await admin.post(`/api/v1/threads/dead_mans_switch.instance/${instanceId}/messages`, { body: '  \n ' }),
      'body',
      /must not be empty/,
    );
  });

  it('stores names and descriptions trimmed ("  Acme  " is "Acme"); a blank description clears it', async () => {
    const partner = await admin.post('/api/v1/partners', { name: '  Acme  ', email: ' ops@acme.example ' });
    assert.equal(partner.status, 201, JSON.stringify(partner.body));
    assert.equal(partner.body.name, 'Acme');
    assert.equal(partner.body.email, 'ops@acme.example');
    const user = await admin.post('/api/v1/users', {
      email: '  jane@vigil.test ',
      password: 'password-1',
      name: '  Jane  ',
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    assert.deepEqual([user.body.name, user.body.email], ['Jane', 'jane@vigil.test']);
    const window = await admin.post(WINDOWS, {
      instance_id: instanceId,
      description: '  Upgrade  ',
      starts_at: '2030-01-01T00:00:00Z',
      ends_at: '2030-01-01T01:00:00Z',
    });
    assert.equal(window.status, 201, JSON.stringify(window.body));
    assert.equal(window.body.description, 'Upgrade');
    const described = await admin.patch(`${INSTANCES}/${instanceId}`, { description: '  prod  ' });
    assert.equal(described.status, 200, JSON.stringify(described.body));
    assert.equal(described.body.description, 'prod');
    const cleared = await admin.patch(`${INSTANCES}/${instanceId}`, { description: '   ' });
    assert.equal(cleared.body.description, null);
    const [stored] = await query<{ name: string }>(db, 'SELECT name FROM partner WHERE id = $1', [
      partner.body.id,
    ]);
    assert.equal(stored.name, 'Acme');
  });

  it('answers 400s in the caller language without a raw translation key', async () => {
    for (const lang of ['en', 'fr', 'de', 'nl']) {
      const api = admin.withHeaders({ 'accept-language': lang });
      for (const result of [
        await api.post('/api/v1/partners', { name: LONG, email: 'nope', phone: 42, parent_id: 'x' }),
        await api.post(WINDOWS, { starts_at: 'soon', ends_at: 'later', description: 7 }),
        await api.post(`/api/v1/threads/dead_mans_switch.instance/${instanceId}/followers`, {
          subtypes: Array.from({ length: 101 }, () => 'x'),
        }),
        await api.post('/api/v1/me/channels', { kind: 'webhook', name: 'x', settings: 'nope' }),
      ]) {
        assert.equal(result.status, 400, JSON.stringify(result.body));
        for (const error of result.body.errors as { message: string }[])
          assert.doesNotMatch(error.message, RAW_KEY, `${lang}: ${error.message}`);
      }
    }
    const french = await admin
      .withHeaders({ 'accept-language': 'fr' })
      .post('/api/v1/partners', { name: LONG });
    assert.doesNotMatch(french.body.message, /must/);
  });

  it('shows a web form error next to the field, naming the maximum, without a raw key', async () => {
    const web = await webSession(app.url);
    const page = await web.get('/web/customers');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1];
    const answer = await web.post('/web/customers', {
      _csrf: csrf,
      _form: 'new-customer',
      _page: '/web/customers',
      name: LONG,
    });
    assert.equal(answer.status, 400);
    const error = /<ul class="field-error" id="new-customer-name-error">(.*?)<\/ul>/s.exec(answer.text);
    assert.ok(error, `the error is next to the name field: ${answer.text.slice(0, 3000)}`);
    assert.match(error[1], /at most 200 characters/);
    assert.doesNotMatch(error[1], RAW_KEY);
    const blank = await web.post('/web/customers', {
      _csrf: csrf,
      _form: 'new-customer',
      _page: '/web/customers',
      name: '   ',
    });
    assert.equal(blank.status, 400);
    assert.match(blank.text, /id="new-customer-name-error"><li>.*must not be empty/s);
  });

  it('user:create refuses a bad e-mail with a message naming --email and exit code 1, creating nobody', async () => {
    const users = await count(db, 'users');
    const cli = spawnVigil({ DATABASE_URL: db }, [
      'user:create',
      '--email',
      'not-an-e-mail',
      '--password',
      'password-1',
    ]);
    assert.equal(await cli.exited, 1, cli.output());
    assert.match(cli.output(), /--email must be an e-mail address/);
    const blank = spawnVigil({ DATABASE_URL: db }, [
      'user:create',
      '--email',
      'ok@vigil.test',
      '--password',
      'password-1',
      '--name',
      '   ',
    ]);
    assert.equal(await blank.exited, 1, blank.output());
    assert.match(blank.output(), /--name must not be empty/);
    assert.equal(await count(db, 'users'), users);
    const good = spawnVigil({ DATABASE_URL: db }, [
      'user:create',
      '--email',
      ' cli@vigil.test ',
      '--password',
      'password-1',
      '--name',
      '  Cli User ',
    ]);
    assert.equal(await good.exited, 0, good.output());
    const [created] = await query<{ name: string }>(
      db,
      `SELECT p.name FROM users u JOIN partner p ON p.id = u.partner_id WHERE u.email = 'cli@vigil.test'`,
    );
    assert.equal(created?.name, 'Cli User');
  });

  it('keeps a check-in with ram 150: 200, the heartbeat counted, ram not stored, flagged once on the instance', async () => {
    const checkIn = { database_uuid: uuid, cpu: 12, ram: 150, user_count: 3 };
    const first = await new Api(app.url).post('/dead_mans_switch/alive', checkIn);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(first.body.ignored, [
      { field: 'ram', message: 'ram is a percentage, between 0 and 100: not stored' },
    ]);
    const second = await new Api(app.url).post('/dead_mans_switch/alive', {
      jsonrpc: '2.0',
      method: 'call',
      params: { ...checkIn, ram: 151 },
    });
    assert.equal(second.status, 200);
    assert.equal(second.body.result.status, 'ok');

    const [log] = await query<{ cpu: number; ram: number | null; user_count: number }>(
      db,
      'SELECT cpu, ram, user_count FROM dead_mans_switch_log WHERE instance_id = $1 ORDER BY received_at DESC, id DESC LIMIT 1',
      [instanceId],
    );
    assert.deepEqual(log, { cpu: 12, ram: null, user_count: 3 });

    const instance = await admin.get(`${INSTANCES}/${instanceId}`);
    assert.equal(instance.body.last_ram, null);
    assert.equal(instance.body.last_user_count, 3);
    assert.equal(instance.body.ignored_statistics.length, 1);
    assert.deepEqual(
      {
        field: instance.body.ignored_statistics[0].field,
        value: instance.body.ignored_statistics[0].value,
        count: instance.body.ignored_statistics[0].count,
      },
      { field: 'ram', value: '151', count: 2 },
    );
    const french = await admin.withHeaders({ 'accept-language': 'fr' }).get(`${INSTANCES}/${instanceId}`);
    assert.match(french.body.ignored_statistics[0].message, /pourcentage/);

    // One warning event per statistic, not one per check-in.
    const events = await admin.get(`/api/v1/dead_mans_switch/events?instance_id=${instanceId}`);
    const warnings = (events.body.items as { level: string; message: string }[]).filter((e) =>
      e.message.includes('ram'),
    );
    assert.equal(warnings.length, 1, JSON.stringify(events.body.items));
    assert.equal(warnings[0].level, 'warning');
    assert.match(warnings[0].message, /ram \(150\).*between 0 and 100/);

    // The instance page shows it.
    const web = await webSession(app.url);
    const page = await web.get(`/web/instances/${instanceId}`);
    assert.match(page, /id="instance-ignored-statistics"/);
    assert.match(page, /<code>ram<\/code>/);
    assert.match(page, /ram is a percentage, between 0 and 100: not stored/);
  });
});

/** A signed-in browser-less web session: cookies kept, forms posted as a browser would. */
async function webSession(baseUrl: string) {
  const cookies = new Map<string, string>();
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair.indexOf('=');
      cookies.set(pair.slice(0, index), pair.slice(index + 1));
    }
  };
  const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const get = async (path: string) => {
    const response = await fetch(baseUrl + path, { headers: { cookie: cookie() }, redirect: 'manual' });
    keep(response);
    return response.text();
  };
  const post = async (path: string, form: Record<string, string>) => {
    const response = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      redirect: 'manual',
    });
    keep(response);
    return { status: response.status, text: await response.text() };
  };
  const login = await get('/web/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(login)![1];
  const signedIn = await post('/web/login', { _csrf: csrf, email: ADMIN.email, password: ADMIN.password });
  assert.equal(signedIn.status, 303, signedIn.text.slice(0, 500));
  return { get, post };
}
