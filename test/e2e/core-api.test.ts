import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LOGIN_ATTEMPTS_PER_MINUTE } from '../../src/auth/auth.controller.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newPartner, newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';

describe('core API: auth, users, partners, settings', () => {
  let app: TestApp;
  let db: string;
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

  it('logs in and returns a bearer token', async () => {
    const result = await anonymous.post('/api/v1/auth/login', {
      email: ADMIN.email.toUpperCase(),
      password: ADMIN.password,
    });
    assert.equal(result.status, 200);
    assert.equal(result.body.token_type, 'Bearer');
    assert.ok(result.body.expires_in > 0);
    assert.match(result.body.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const me = await anonymous.as(result.body.access_token).get('/api/v1/me');
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.roles, ['admin']);
  });

  it('refuses a wrong password with 401', async () => {
    const result = await anonymous.post('/api/v1/auth/login', { email: ADMIN.email, password: 'nope-nope' });
    assert.equal(result.status, 401);
    assert.equal(result.body.message, 'Wrong e-mail or password');
  });

  it('creates, reads, searches, updates and archives partners', async () => {
    const created = await admin.post('/api/v1/partners', {
      name: 'Acme Hosting',
      is_company: true,
      customer: true,
      email: 'Ops@Acme.example',
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.email, 'ops@acme.example');
    const id = created.body.id as number;
    const contact = await admin.post('/api/v1/partners', { name: 'Jane Contact', parent_id: id });
    assert.equal(contact.status, 201);
    assert.equal(contact.body.parent_id, id);

    const found = await admin.get('/api/v1/partners?q=acme');
    assert.equal(found.status, 200);
    assert.deepEqual(
      found.body.items.map((p: { id: number }) => p.id),
      [id],
    );
    const byEmail = await admin.get('/api/v1/partners?q=ops%40acme');
    assert.equal(byEmail.body.total, 1);
    const contacts = await admin.get(`/api/v1/partners?parent_id=${id}`);
    assert.deepEqual(
      contacts.body.items.map((p: { name: string }) => p.name),
      ['Jane Contact'],
    );

    const updated = await admin.patch(`/api/v1/partners/${id}`, { phone: '+32 2 555 00 00', user_id: 1 });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.phone, '+32 2 555 00 00');
    assert.equal(updated.body.user_id, 1);

    assert.equal((await admin.delete(`/api/v1/partners/${id}`)).status, 204);
    assert.equal((await admin.get('/api/v1/partners?q=acme')).body.total, 0);
    assert.equal((await admin.get('/api/v1/partners?q=acme&include_archived=true')).body.total, 1);
    assert.equal((await admin.get(`/api/v1/partners/${id}`)).body.active, false);
  });

  it('paginates partners', async () => {
    for (let i = 0; i < 5; i++) await newPartner(app, { name: `Paged ${i}` });
    const page = await admin.get('/api/v1/partners?q=Paged&limit=2&offset=2');
    assert.equal(page.body.total, 5);
    assert.deepEqual(
      page.body.items.map((p: { name: string }) => p.name),
      ['Paged 2', 'Paged 3'],
    );
    assert.equal((await admin.get('/api/v1/partners?limit=1000')).status, 400);
  });

  it('refuses a contact whose company is not a company, or an unknown account manager', async () => {
    const person = await newPartner(app, { is_company: false });
    const result = await admin.post('/api/v1/partners', { name: 'X', parent_id: person.id });
    assert.equal(result.status, 400);
    assert.match(result.body.message, /not a company/);
    const unknown = await admin.post('/api/v1/partners', { name: 'X', user_id: 999999 });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /user_id/);
  });

  it('answers 401 without a token and 403 to a viewer who creates', async () => {
    assert.equal((await anonymous.get('/api/v1/partners')).status, 401);
    assert.equal((await anonymous.as('not-a-token').get('/api/v1/partners')).status, 401);
    const viewer = await newUser(app, { roles: ['viewer'] });
    const asViewer = await anonymous.login(viewer.email, viewer.password);
    assert.equal((await asViewer.get('/api/v1/partners')).status, 200);
    const denied = await asViewer.post('/api/v1/partners', { name: 'Nope' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error, 'Forbidden');
    assert.equal((await asViewer.get('/api/v1/users')).status, 403);
    assert.equal((await asViewer.get('/api/v1/settings')).status, 403);
    const manager = await newUser(app, { roles: ['manager'] });
    const asManager = await anonymous.login(manager.email, manager.password);
    assert.equal((await asManager.post('/api/v1/partners', { name: 'Managed' })).status, 201);
  });

  it('answers 400 naming each invalid field, in the caller language', async () => {
    const result = await admin.post('/api/v1/partners', {
      name: '',
      email: 'not-an-email',
      is_company: 'yes',
    });
    assert.equal(result.status, 400);
    const fields = result.body.errors.map((e: { field: string }) => e.field).sort();
    assert.deepEqual(fields, ['email', 'is_company', 'name']);
    assert.match(result.body.message, /email must be an e-mail address/);
    const french = await admin
      .withHeaders({ 'accept-language': 'fr-BE,fr;q=0.9' })
      .post('/api/v1/partners', { name: '' });
    assert.equal(french.body.message, 'name ne doit pas être vide');
    const german = await admin
      .withHeaders({ 'accept-language': 'de' })
      .post('/api/v1/partners', { name: 'x'.repeat(201) });
    assert.equal(german.body.message, 'name darf höchstens 200 Zeichen lang sein');
    const huge = await admin.post('/api/v1/partners', { name: 'x', notes: 'y'.repeat(1_100_000) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.message, 'The request body is too large: at most 1048576 bytes are accepted');
    const malformed = await admin.post('/api/v1/partners', '{"name": ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.message, 'The request body is not valid JSON');
  });

  it('manages users and refuses a duplicate e-mail', async () => {
    const created = await admin.post('/api/v1/users', {
      email: 'ops@vigil.test',
      password: 'long-enough',
      roles: ['ops'],
      name: 'Ops',
      lang: 'nl',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.roles, ['ops']);
    assert.equal(created.body.lang, 'nl');
    assert.ok(created.body.partner_id > 0);
    assert.equal(created.body.password_hash, undefined);
    const duplicate = await admin.post('/api/v1/users', { email: 'OPS@vigil.test', password: 'long-enough' });
    assert.equal(duplicate.status, 409);
    const badRole = await admin.post('/api/v1/users', {
      email: 'x@vigil.test',
      password: 'long-enough',
      roles: ['root'],
    });
    assert.equal(badRole.status, 400);
    const ops = await anonymous.login('ops@vigil.test', 'long-enough');
    assert.equal(
      (await ops.withHeaders({ 'accept-language': 'nl' }).get('/api/v1/users')).body.message,
      'Hiervoor is de rol admin nodig',
    );
    const deactivated = await admin.patch(`/api/v1/users/${created.body.id}`, { active: false });
    assert.equal(deactivated.body.active, false);
    assert.equal((await ops.get('/api/v1/me')).status, 401);
    assert.equal(
      (await anonymous.post('/api/v1/auth/login', { email: 'ops@vigil.test', password: 'long-enough' }))
        .status,
      401,
    );
  });

  it('creates, uses and revokes personal API keys', async () => {
    const user = await newUser(app, { roles: ['manager'] });
    const asUser = await anonymous.login(user.email, user.password);
    const key = await asUser.post('/api/v1/me/api-keys', { name: 'deploy script' });
    assert.equal(key.status, 201);
    assert.match(key.body.token, /^vgl_/);
    const withKey = anonymous.as(key.body.token);
    assert.equal((await withKey.get('/api/v1/me')).body.email, user.email);
    const listed = await asUser.get('/api/v1/me/api-keys');
    assert.deepEqual(
      listed.body.map((k: { name: string }) => k.name),
      ['deploy script'],
    );
    assert.equal(listed.body[0].token, undefined);
    assert.notEqual(listed.body[0].last_used_at, null);
    assert.equal((await asUser.delete(`/api/v1/me/api-keys/${key.body.id}`)).status, 204);
    assert.equal((await withKey.get('/api/v1/me')).status, 401);
    assert.equal((await asUser.delete(`/api/v1/me/api-keys/${key.body.id}`)).status, 404);
  });

  it('reads and writes settings as an administrator', async () => {
    const uuid = await admin.get('/api/v1/settings/database.uuid');
    assert.equal(uuid.status, 200);
    assert.match(uuid.body.value, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal((await admin.get('/api/v1/settings/test_addon.greeting')).body.value, 'hello');
    // Only declared settings are written (test/e2e/settings.test.ts has the rules).
    assert.equal((await admin.put('/api/v1/settings/custom.key', { value: '42' })).status, 400);
    assert.equal((await admin.get('/api/v1/settings/custom.key')).status, 404);
    const put = await admin.put('/api/v1/settings/web.base_url', { value: 'https://vigil.example.com' });
    assert.equal(put.status, 200);
    assert.equal((await admin.get('/api/v1/settings/web.base_url')).body.value, 'https://vigil.example.com');
    assert.equal((await admin.get('/api/v1/settings/missing.key')).status, 404);
    assert.equal((await admin.put('/api/v1/settings/Bad Key', { value: '1' })).status, 400);
    const regenerated = await admin.post('/api/v1/settings/database.uuid/regenerate');
    assert.notEqual(regenerated.body.value, uuid.body.value);
  });

  it('serves liveness, readiness, metrics and the OpenAPI document', async () => {
    const status = await anonymous.get('/monitoring/status');
    assert.deepEqual(status.body, { status: 1 });
    assert.match(status.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const traced = await anonymous.withHeaders({ 'x-request-id': 'trace-42' }).get('/monitoring/status');
    assert.equal(traced.headers.get('x-request-id'), 'trace-42');
    assert.equal((await anonymous.get('/monitoring/ready')).status, 200);
    const metrics = await anonymous.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(
      metrics.body,
      /vigil_http_request_duration_seconds_count\{method="GET",route="\/monitoring\/ready",status="200"\}/,
    );
    const docs = await anonymous.get('/api/docs-json');
    assert.equal(docs.status, 200);
    assert.ok(docs.body.paths['/api/v1/partners']);
  });

  it('guards /metrics with METRICS_TOKEN when it is set', async () => {
    const guarded = await startTestApp({ databaseUrl: db, env: { METRICS_TOKEN: 'metrics-secret-1' } });
    try {
      const scrape = (authorization?: string) =>
        fetch(`${guarded.url}/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal((await scrape()).status, 401);
      assert.equal((await scrape('Bearer metrics-secret')).status, 401);
      assert.equal((await scrape('Bearer metrics-secret-12')).status, 401);
      assert.equal((await scrape('metrics-secret-1')).status, 401);
      const ok = await scrape('Bearer metrics-secret-1');
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /vigil_http_request_duration_seconds/);
    } finally {
      await guarded.close();
    }
  });

  it('rate-limits repeated login attempts', async () => {
    // A second replica has its own, untouched allowance for 127.0.0.1.
    const replica = await startTestApp({ databaseUrl: db });
    try {
      const client = new Api(replica.url);
      const statuses: number[] = [];
      for (let i = 0; i < LOGIN_ATTEMPTS_PER_MINUTE + 3; i++) {
        statuses.push(
          // Other e-mails each time: the per-address limit, not the per-account wait (auth-sessions.test.ts).
          (
            await client.post('/api/v1/auth/login', {
              email: `nobody-${i}@vigil.test`,
              password: `wrong-${i}`,
            })
          ).status,
        );
      }
      assert.deepEqual(statuses, [...Array(LOGIN_ATTEMPTS_PER_MINUTE).fill(401), 429, 429, 429]);
      const refused = await client.post('/api/v1/auth/login', {
        email: ADMIN.email,
        password: ADMIN.password,
      });
      assert.equal(refused.status, 429);
    } finally {
      await replica.close();
    }
  });
});
