import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { UsersService } from '../../src/users/users.service.js';
import { systemContext } from '../../src/common/request-context.js';
import type { Role } from '../../src/users/user.entity.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { newUser } from '../harness/factories.js';

/** Who may call a route: anyone, every user at or above a role, or any of several roles (admin always). */
type Access = 'public' | Role | Role[];

/**
 * Who may call each route: `public`, or the role it needs (every signed-in user is a viewer; admin has every role).
 * Written once, as data. The test reads the application's real route table: a route missing here fails it, so a
 * new route cannot be forgotten.
 */
const ACCESS: Record<string, Access> = {
  'POST /dead_mans_switch/alive': 'public',
  'POST /dead_mans_switch/cancel': 'public',
  'POST /dead_mans_switch/event': 'public',
  'POST /dead_mans_switch/start': 'public',
  'GET /': 'public',
  'GET /favicon.ico': 'public',
  'GET /web/*': 'public',
  'GET /monitoring/status': 'public',
  'GET /monitoring/ready': 'public',
  'GET /metrics': 'public',
  'POST /api/v1/auth/login': 'public',
  'POST /api/v1/auth/logout': 'viewer',
  'GET /api/v1/me': 'viewer',
  'GET /api/v1/me/api-keys': 'viewer',
  'POST /api/v1/me/api-keys': 'viewer',
  'DELETE /api/v1/me/api-keys/:id': 'viewer',
  'GET /api/v1/me/notifications': 'viewer',
  'POST /api/v1/me/notifications/read-all': 'viewer',
  'POST /api/v1/me/notifications/:id/read': 'viewer',
  'GET /api/v1/me/channels': 'viewer',
  'POST /api/v1/me/channels': 'viewer',
  'PATCH /api/v1/me/channels/:id': 'viewer',
  'DELETE /api/v1/me/channels/:id': 'viewer',
  'POST /api/v1/me/channels/:id/test': 'viewer',
  'GET /api/v1/partners/:partner_id/channels': 'manager',
  'POST /api/v1/partners/:partner_id/channels': 'manager',
  'PATCH /api/v1/partners/:partner_id/channels/:id': 'manager',
  'DELETE /api/v1/partners/:partner_id/channels/:id': 'manager',
  'POST /api/v1/partners/:partner_id/channels/:id/test': 'manager',
  'GET /api/v1/channel_kinds': 'viewer',
  'GET /api/v1/users': 'admin',
  'POST /api/v1/users': 'admin',
  'GET /api/v1/users/:id': 'admin',
  'PATCH /api/v1/users/:id': 'admin',
  'GET /api/v1/partners': 'viewer',
  'GET /api/v1/partners/:id': 'viewer',
  'POST /api/v1/partners': 'manager',
  'PATCH /api/v1/partners/:id': 'manager',
  'DELETE /api/v1/partners/:id': 'manager',
  'GET /api/v1/settings': 'admin',
  'GET /api/v1/settings/:key': 'admin',
  'PUT /api/v1/settings/:key': 'admin',
  'POST /api/v1/settings/database.uuid/regenerate': 'admin',
  'GET /api/v1/subtypes': 'viewer',
  'GET /api/v1/threads/:model/:id/messages': 'viewer',
  'POST /api/v1/threads/:model/:id/messages': 'viewer',
  'GET /api/v1/threads/:model/:id/followers': 'viewer',
  'POST /api/v1/threads/:model/:id/followers': 'viewer',
  'DELETE /api/v1/threads/:model/:id/followers/:partner_id': 'viewer',
  'GET /api/v1/backup/configs': 'viewer',
  'GET /api/v1/backup/configs/:id': 'viewer',
  'POST /api/v1/backup/configs': 'manager',
  'PATCH /api/v1/backup/configs/:id': 'manager',
  'DELETE /api/v1/backup/configs/:id': 'manager',
  'POST /api/v1/backup/configs/:id/run': 'ops',
  'POST /api/v1/backup/configs/:id/drill': 'ops',
  'GET /api/v1/backup/backups': 'viewer',
  'GET /api/v1/backup/backups/:id': 'viewer',
  'GET /api/v1/backup/backups/:id/download': 'ops',
  'POST /api/v1/backup/backups/:id/verify': 'ops',
  'POST /api/v1/backup/backups/:id/restore': 'ops',
  'DELETE /api/v1/backup/backups/:id': 'manager',
  'GET /api/v1/cloud_platform/status': 'ops',
  'GET /api/v1/cloud_platform/reports': 'ops',
  'POST /api/v1/cloud_platform/check': 'admin',
  'GET /api/v1/dead_mans_switch_client/status': 'admin',
  'POST /api/v1/dead_mans_switch_client/check_in': 'admin',
  'GET /api/v1/dead_mans_switch/instances': 'viewer',
  'GET /api/v1/dead_mans_switch/instances/:id': 'viewer',
  'PATCH /api/v1/dead_mans_switch/instances/:id': 'manager',
  'POST /api/v1/dead_mans_switch/instances/:id/activate': 'manager',
  'POST /api/v1/dead_mans_switch/instances/:id/suspend': 'manager',
  'GET /api/v1/dead_mans_switch/instances/:id/logs': 'viewer',
  'POST /api/v1/dead_mans_switch/instances/:id/token': 'manager',
  'DELETE /api/v1/dead_mans_switch/instances/:id/token': 'manager',
  'POST /api/v1/dead_mans_switch/instances/:id/clear_copy': 'manager',
  'GET /api/v1/dead_mans_switch/events': 'viewer',
  'GET /api/v1/dead_mans_switch/maintenance_windows': 'viewer',
  'POST /api/v1/dead_mans_switch/maintenance_windows': 'manager',
  'DELETE /api/v1/dead_mans_switch/maintenance_windows/:id': 'manager',
  'GET /api/v1/dead_mans_switch/instances/:id/probes': 'viewer',
  'POST /api/v1/dead_mans_switch/instances/:id/probes': 'manager',
  'GET /api/v1/dead_mans_switch/probes/:id': 'viewer',
  'PATCH /api/v1/dead_mans_switch/probes/:id': 'manager',
  'DELETE /api/v1/dead_mans_switch/probes/:id': 'manager',
  'GET /api/v1/dead_mans_switch/probes/:id/results': 'viewer',
  'POST /api/v1/dead_mans_switch/probes/:id/run': 'manager',
  // The web UI: signed in by its session cookie or, like the API, a bearer token (no CSRF token needed then).
  'GET /web': 'viewer',
  'GET /web/login': 'public',
  'POST /web/login': 'public',
  'POST /web/admin/users': 'admin',
  'POST /web/preferences/password': 'viewer',
  'POST /web/preferences/api-keys': 'viewer',
  'POST /web/preferences/api-keys/:id/revoke': 'viewer',
  'POST /web/logout': 'viewer',
  'GET /web/inbox': 'viewer',
  'GET /web/inbox/:id/open': 'viewer',
  'POST /web/inbox/:id/read': 'viewer',
  'POST /web/inbox/read-all': 'viewer',
  'GET /web/customers': 'viewer',
  'POST /web/customers': 'manager',
  'GET /web/customers/:id': 'viewer',
  'POST /web/customers/:id': 'manager',
  'POST /web/customers/:id/contacts': 'manager',
  'GET /web/admin': 'admin',
  'GET /web/admin/settings': 'admin',
  'POST /web/admin/users/:id': 'admin',
  'POST /web/admin/settings': 'admin',
  'GET /web/preferences': 'viewer',
  'POST /web/preferences': 'viewer',
  'POST /web/threads/:model/:id/messages': 'viewer',
  'POST /web/threads/:model/:id/followers': 'viewer',
  'POST /web/threads/:model/:id/followers/:partner_id/remove': 'viewer',
  'GET /web/instances': 'viewer',
  'GET /web/instances/:id': 'viewer',
  'POST /web/instances/:id': 'manager',
  'POST /web/instances/:id/activate': 'manager',
  'POST /web/instances/:id/suspend': 'manager',
  'POST /web/instances/:id/probes': 'manager',
  'POST /web/instances/:id/probes/:probeId/delete': 'manager',
  'GET /web/instances/:id/probes/:probeId': 'manager',
  'POST /web/instances/:id/probes/:probeId': 'manager',
  'POST /web/instances/:id/windows': 'manager',
  'POST /web/instances/:id/windows/:windowId/delete': 'manager',
  'POST /web/instances/:id/expectation': 'manager',
  'POST /web/instances/:id/dependency': 'manager',
  'POST /web/instances/:id/token': 'manager',
  'POST /web/instances/:id/token/delete': 'manager',
  'POST /web/instances/:id/clear_copy': 'manager',
  'GET /web/environment': 'ops',
  'GET /web/backups': 'viewer',
  'GET /web/backups/runs': 'viewer',
  'GET /web/backups/configs/new': 'manager',
  'POST /web/backups/configs': 'manager',
  'GET /web/backups/configs/:id': 'viewer',
  'POST /web/backups/configs/:id': 'manager',
  'POST /web/backups/configs/:id/delete': 'manager',
  'POST /web/backups/configs/:id/run': 'ops',
  'POST /web/backups/configs/:id/drill': 'ops',
  'GET /web/backups/:id/download': 'ops',
  'POST /web/backups/:id/verify': 'ops',
  'POST /web/backups/:id/delete': 'manager',
  'POST /web/backups/restore': 'ops',
  'POST /web/environment/check': 'admin',
  'GET /api/v1/status_page/customers/:partnerId': 'manager',
  'POST /api/v1/status_page/customers/:partnerId/rotate': 'manager',
  'DELETE /api/v1/status_page/customers/:partnerId': 'manager',
  'GET /web/status_page/customers/:id': 'manager',
  'POST /web/status_page/customers/:id/rotate': 'manager',
  'POST /web/status_page/customers/:id/disable': 'manager',
  'GET /api/v1/customer_report/customers/:id': 'viewer',
  'POST /api/v1/customer_report/customers/:id/send': 'manager',
  'GET /api/v1/customer_report/customers/:id/settings': 'viewer',
  'PUT /api/v1/customer_report/customers/:id/settings': 'manager',
  'GET /web/customers/report/customer-report.css': 'viewer',
  'GET /web/customers/:id/report': 'viewer',
  'POST /web/customers/:id/report/send': 'manager',
  'POST /web/customers/:id/report/settings': 'manager',
  'GET /status/assets/status-page.css': 'public',
  // Status page subscriptions (double opt-in) and the public index.
  'GET /status': 'public',
  'POST /status/:token/subscribe': 'public',
  'GET /status/subscriptions/confirm/:link': 'public',
  'POST /status/subscriptions/confirm/:link': 'public',
  'GET /status/subscriptions/unsubscribe/:link': 'public',
  'POST /status/subscriptions/unsubscribe/:link': 'public',
  'PUT /api/v1/status_page/customers/:partnerId/public': 'manager',
  'GET /api/v1/status_page/customers/:partnerId/subscribers': 'manager',
  'DELETE /api/v1/status_page/customers/:partnerId/subscribers/:id': 'manager',
  'POST /web/status_page/customers/:id/public': 'manager',
  'POST /web/status_page/customers/:id/subscribers/:subscriber/remove': 'manager',
  // Incidents, acknowledgement (managers and ops; the signed link is its own credential), escalation.
  'GET /api/v1/dead_mans_switch/incidents': 'viewer',
  'GET /api/v1/dead_mans_switch/incidents/:id': 'viewer',
  'POST /api/v1/dead_mans_switch/incidents/:id/acknowledge': ['manager', 'ops'],
  'GET /dead_mans_switch/ack/:token': 'public',
  'POST /dead_mans_switch/ack/:token': 'public',
  'GET /web/incidents': 'viewer',
  'GET /web/incidents/:id': 'viewer',
  'POST /web/incidents/:id/acknowledge': ['manager', 'ops'],
  'GET /api/v1/dead_mans_switch/instances/:id/escalation': 'viewer',
  'PUT /api/v1/dead_mans_switch/instances/:id/escalation': 'manager',
  'GET /api/v1/dead_mans_switch/customers/:id/escalation': 'viewer',
  'PUT /api/v1/dead_mans_switch/customers/:id/escalation': 'manager',
  'POST /web/incidents/customer/:id/escalation': 'manager',
  'POST /web/incidents/instance/:id/escalation': 'manager',
  'GET /status/:token': 'public',
  'GET /status/:token/feed.atom': 'public',
  'GET /status/:token/badge/:file': 'public',
};

/** Web pages send an anonymous visitor to the sign-in page instead of answering 401. */
const isWebPage = (route: string) => /^GET \/web(\/|$)/.test(route);

/** The OpenAPI UI and document: public, served by the Swagger module. */
const DOCS = /^\/api\/docs/;

/** Concrete values for path parameters: records that do not exist, so that an allowed call changes nothing. */
const PARAMS: Record<string, string> = {
  id: '999999',
  partner_id: '999999',
  model: 'partner',
  key: 'no.such.key',
};

const ROLES: Role[] = ['viewer', 'manager', 'ops', 'admin'];

/** Static files: the same for everyone, and no handler of Vigil's behind them. */
const ASSETS = /^\/web\/assets\//;

function routeTable(app: TestApp): string[] {
  const routes = new Set<string>();
  for (const { method, path } of app.vigil.routes) {
    // Fastify answers HEAD for every GET route by itself.
    if (method === 'HEAD' || DOCS.test(path) || ASSETS.test(path)) continue;
    routes.add(`${method} ${path}`);
  }
  return [...routes].sort();
}

describe('every route × every kind of caller', () => {
  let app: TestApp;
  let db: string;
  const tokens: Record<string, string> = {};
  const userIds: Partial<Record<Role, number>> = {};

  /** Signing out ends the caller's tokens (issue 22): the routes after it get a token of the new version. */
  const SIGN_OUTS = new Set(['POST /api/v1/auth/logout', 'POST /web/logout']);
  async function renew(role: Role): Promise<void> {
    const [user] = await query<{ token_version: number }>(
      db,
      'SELECT token_version FROM users WHERE id = $1',
      [userIds[role]],
    );
    tokens[role] = await app
      .get(JwtService)
      .signAsync({ sub: userIds[role], ver: user.token_version, typ: 'api' }, { expiresIn: 3600 });
  }

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    const jwt = app.get(JwtService);
    for (const role of ROLES) {
      const user = await newUser(app, { roles: [role] });
      userIds[role] = user.id;
      tokens[role] = await jwt.signAsync({ sub: user.id, ver: 0, typ: 'api' }, { expiresIn: 3600 });
    }
    const expired = await newUser(app, { roles: ['admin'] });
    tokens.expired = await jwt.signAsync({
      sub: expired.id,
      ver: 0,
      typ: 'api',
      exp: Math.floor(Date.now() / 1000) - 60,
    });
    tokens.forged = await jwt.signAsync(
      { sub: expired.id, ver: 0, typ: 'api' },
      { expiresIn: 3600, secret: 'another-secret' },
    );
    const deactivated = await newUser(app, { roles: ['admin'] });
    tokens.deactivated = await jwt.signAsync(
      { sub: deactivated.id, ver: 0, typ: 'api' },
      { expiresIn: 3600 },
    );
    await app.get(UsersService).update(systemContext(), deactivated.id, { active: false });
    // A personal API key, then revoked by its owner.
    const owner = await newUser(app, { roles: ['admin'] });
    const ownerToken = await jwt.signAsync({ sub: owner.id, ver: 0, typ: 'api' }, { expiresIn: 3600 });
    const created = await call('POST', '/api/v1/me/api-keys', ownerToken, { name: 'ci' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body as { id: number; token: string };
    assert.equal(
      (await call('GET', '/api/v1/me', key.token)).status,
      200,
      'the key works before it is revoked',
    );
    assert.equal((await call('DELETE', `/api/v1/me/api-keys/${key.id}`, ownerToken)).status, 204);
    tokens.revoked = key.token;
  });

  after(async () => {
    await app?.close();
    await dropDatabase(db);
  });

  async function call(
    method: string,
    path: string,
    token?: string,
    body: unknown = method === 'GET' || method === 'DELETE' ? undefined : {},
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      // A redirect is an answer of its own (web pages, forms): not followed.
      redirect: 'manual',
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not JSON (metrics): keep the text.
    }
    return { status: response.status, body: parsed };
  }

  const concrete = (path: string) => path.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? '1');

  it('knows every route of the application, and only those', () => {
    assert.deepEqual(routeTable(app), Object.keys(ACCESS).sort());
  });

  it('asks for credentials on every route that is not public, and refuses bad ones', async () => {
    for (const route of routeTable(app)) {
      const [method, path] = route.split(' ');
      for (const caller of [undefined, 'expired', 'forged', 'deactivated', 'revoked'] as const) {
        const { status, body } = await call(method, concrete(path), caller && tokens[caller]);
        const who = caller ?? 'anonymous';
        if (ACCESS[route] === 'public') {
          assert.ok(status !== 401 && status !== 403 && status < 500, `${route} as ${who}: ${status}`);
        } else if (isWebPage(route)) {
          assert.equal(status, 303, `${route} as ${who}: ${status}`);
        } else {
          assert.equal(status, 401, `${route} as ${who}: ${status} ${JSON.stringify(body)}`);
        }
      }
    }
  });

  it('gives each role exactly the routes it is entitled to', async () => {
    for (const route of routeTable(app)) {
      const [method, path] = route.split(' ');
      const needed = ACCESS[route];
      for (const role of ROLES) {
        const { status, body } = await call(method, concrete(path), tokens[role]);
        if (SIGN_OUTS.has(route)) await renew(role);
        const allowed =
          needed === 'public' ||
          needed === 'viewer' ||
          role === 'admin' ||
          (Array.isArray(needed) ? needed.includes(role) : role === needed);
        const said = `${route} as ${role}: ${status} ${JSON.stringify(body)}`;
        // An allowed call may be refused for its empty body or unknown record, or report an upstream failure (502),
        // never crash (500).
        if (allowed) assert.ok(status !== 401 && status !== 403 && status !== 500, said);
        else assert.equal(status, 403, said);
      }
    }
  });
});
