import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatterService, Database, ManualClock, NotificationDispatcher } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type ReceivedMail, type SmtpSink } from '../../../test/harness/smtp.js';
import { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import { activeInstance, alerts, elapse, jsonRpc, postAlive } from './helpers.js';

const DELAY = 60;
const INSTANCES = '/api/v1/dead_mans_switch/instances';

/**
 * Instance dependencies: while an ancestor (a host, a VPN) is down, a dependent that goes quiet is down all the
 * same but its followers get no e-mail; a note says why and the ancestor lists it. Once the ancestor is back,
 * the dependent still down is alerted by the next pass.
 */
describe('dead_mans_switch dependencies: suppression while an ancestor is down', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  let follower: NewUser;
  const clock = new ManualClock(new Date('2025-05-01T08:00:00Z'));

  /** Sends what is due and returns the e-mails received meanwhile. */
  async function dispatch(): Promise<ReceivedMail[]> {
    const before = smtp.mails.length;
    await app.get(NotificationDispatcher).dispatchDue();
    return smtp.mails.slice(before);
  }
  /** The subjects of the e-mails about the given instances (other tests' instances go on alerting). */
  const about = (mails: ReceivedMail[], ...names: string[]) =>
    mails
      .filter((m) => names.some((name) => m.subject.includes(name)))
      .map((m) => m.subject)
      .sort();

  /** An active instance of a new customer called `name`, followed by the follower. */
  async function instance(name: string, delay = DELAY) {
    const customer = await newPartner(app, { name, is_company: true, customer: true });
    const created = await activeInstance(app, admin, { delay, partnerId: customer.id });
    await app
      .get(ChatterService)
      .follow({ model: 'dead_mans_switch.instance', id: created.id }, follower.partner_id);
    return created;
  }
  const dependOn = (id: number, parent: number | null) =>
    admin.patch(`${INSTANCES}/${id}`, { depends_on_id: parent });
  const get = async (id: number) => (await admin.get(`${INSTANCES}/${id}`)).body;
  /** The keys of the instance's internal notes about dependencies, oldest first. */
  const notes = async (id: number) =>
    (
      await query<{ key: string }>(
        db,
        `SELECT m.body->>'key' AS key FROM mail_message m
         WHERE m.model = 'dead_mans_switch.instance' AND m.res_id = $1 AND m.message_type = 'note'
           AND m.body->>'key' LIKE 'dead_mans_switch_server.dependencies.%' ORDER BY m.id`,
        [id],
      )
    ).map((row) => row.key);

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    follower = await newUser(app, { lang: 'en', name: 'Fiona Follower' });
    await app.get(NotificationDispatcher).dispatchDue();
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('parent down, child overdue: no e-mail for the child, a note on it, listed on the parent; then alerted once the parent is back', async () => {
    const host = await instance('Host One');
    const odoo = await instance('Odoo One');
    const linked = await dependOn(odoo.id, host.id);
    assert.equal(linked.status, 200, JSON.stringify(linked.body));
    assert.equal(linked.body.depends_on_id, host.id);
    await dispatch();

    await elapse(app, clock, 2 * DELAY);
    assert.deepEqual(await alerts(db, host.id), ['down']);
    assert.deepEqual(await alerts(db, odoo.id), []);
    // The truth is kept: the child is down, suppressed by the host.
    const child = await get(odoo.id);
    assert.equal(child.health, 'down');
    assert.equal(child.suppressed_by_id, host.id);
    assert.deepEqual(await notes(odoo.id), ['dead_mans_switch_server.dependencies.suppressed_note']);
    const parent = await get(host.id);
    assert.deepEqual(
      parent.suppressed_children.map((c: { id: number; display_name: string }) => [c.id, c.display_name]),
      [[odoo.id, 'Odoo One']],
    );
    // The host's incident lists the dependent it silences; the child has no incident of its own.
    const incidents = (await admin.get('/api/v1/dead_mans_switch/incidents?state=open')).body.items as {
      instances: { id: number }[];
      suppressed: { id: number; by_instance_id: number }[];
    }[];
    const hostIncident = incidents.find((i) => i.instances.some((m) => m.id === host.id));
    assert.deepEqual(
      hostIncident?.suppressed.map((c) => [c.id, c.by_instance_id]),
      [[odoo.id, host.id]],
    );
    assert.ok(!incidents.some((i) => i.instances.some((m) => m.id === odoo.id)));
    const mails = (await dispatch()).filter((m) => /One/.test(m.subject));
    assert.deepEqual(about(mails, 'One'), ["Dead man's switch warning: Host One"]);
    // The parent's alert names the dependents it silences.
    assert.match(mails[0].text, /Alerts of the instances that depend on it are suppressed \(1\): Odoo One/);

    // Reminder time of both: the host is reminded, the child stays silent (and gets no second note).
    await elapse(app, clock, 3 * DELAY);
    assert.deepEqual(await alerts(db, host.id), ['down', 'reminder']);
    assert.deepEqual(await alerts(db, odoo.id), []);
    assert.equal((await notes(odoo.id)).length, 1);
    assert.deepEqual(about(await dispatch(), 'One'), [
      "Dead man's switch warning: Host One still down (1st reminder)",
    ]);

    // The host is back: its recovery names the child still down, which the next pass alerts.
    assert.equal((await postAlive(app, jsonRpc({ database_uuid: host.uuid }))).status, 200);
    assert.deepEqual(await alerts(db, host.id), ['down', 'reminder', 'up']);
    const recovery = (await dispatch()).filter((m) => /One/.test(m.subject));
    assert.deepEqual(about(recovery, 'One'), ["Dead man's switch: Host One is back"]);
    assert.match(recovery[0].text, /still down \(1\).*Odoo One/);
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, odoo.id), ['down']);
    assert.equal((await get(odoo.id)).suppressed_by_id, null);
    assert.deepEqual((await get(host.id)).suppressed_children, []);
    assert.deepEqual(about(await dispatch(), 'One'), ["Dead man's switch warning: Odoo One"]);
    // Its recovery is told, as its outage was.
    await postAlive(app, jsonRpc({ database_uuid: odoo.uuid }));
    assert.deepEqual(await alerts(db, odoo.id), ['down', 'up']);
  });

  it('a suppressed child that recovers sends no "up"; a grandparent down suppresses too', async () => {
    const vpn = await instance('VPN Two');
    const host = await instance('Host Two');
    const odoo = await instance('Odoo Two');
    assert.equal((await dependOn(host.id, vpn.id)).status, 200);
    assert.equal((await dependOn(odoo.id, host.id)).status, 200);
    await dispatch();
    await elapse(app, clock, 2 * DELAY);
    assert.deepEqual(await alerts(db, vpn.id), ['down']);
    assert.deepEqual(await alerts(db, host.id), []);
    assert.deepEqual(await alerts(db, odoo.id), []);
    assert.equal((await get(host.id)).suppressed_by_id, vpn.id);
    assert.equal((await get(odoo.id)).suppressed_by_id, host.id);
    assert.deepEqual(about(await dispatch(), 'Two'), ["Dead man's switch warning: VPN Two"]);

    // The child checks in while the VPN is still down: no recovery alert (no one was told it was down).
    await postAlive(app, jsonRpc({ database_uuid: odoo.uuid }));
    assert.equal((await get(odoo.id)).health, 'up');
    assert.deepEqual(await alerts(db, odoo.id), []);
    assert.deepEqual(await notes(odoo.id), [
      'dead_mans_switch_server.dependencies.suppressed_note',
      'dead_mans_switch_server.dependencies.recovered_note',
    ]);
    assert.deepEqual(about(await dispatch(), 'Two'), []);
    // The VPN and the host come back: nothing is told about the host, which recovered silently too.
    await postAlive(app, jsonRpc({ database_uuid: host.uuid }));
    await postAlive(app, jsonRpc({ database_uuid: vpn.uuid }));
    await postAlive(app, jsonRpc({ database_uuid: odoo.uuid }));
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, host.id), []);
    assert.deepEqual(about(await dispatch(), 'Two'), ["Dead man's switch: VPN Two is back"]);
  });

  it('refuses a cycle with a 400 that names it, a dependency on itself and an unknown instance', async () => {
    const a = await instance('Cycle A');
    const b = await instance('Cycle B');
    const c = await instance('Cycle C');
    assert.equal((await dependOn(a.id, b.id)).status, 200);
    assert.equal((await dependOn(b.id, c.id)).status, 200);
    const cycle = await dependOn(c.id, a.id);
    assert.equal(cycle.status, 400, JSON.stringify(cycle.body));
    assert.match(cycle.body.message, /cycle: Cycle C → Cycle A → Cycle B → Cycle C/);
    const self = await dependOn(a.id, a.id);
    assert.equal(self.status, 400);
    assert.match(self.body.message, /Cycle A → Cycle A/);
    const unknown = await dependOn(a.id, 999_999);
    assert.equal(unknown.status, 400);
    assert.equal((await get(c.id)).depends_on_id, null);
    assert.equal((await get(a.id)).depends_on_id, b.id);
    // Cleared with null.
    assert.equal((await dependOn(a.id, null)).body.depends_on_id, null);
    assert.equal((await dependOn(c.id, a.id)).status, 200);
  });

  it('a parent with a probe down counts as down: its dependents are suppressed until no probe is down', async () => {
    const vpn = await instance('VPN Three', 3600);
    const odoo = await instance('Odoo Three');
    assert.equal((await dependOn(odoo.id, vpn.id)).status, 200);
    // What the probes addon does when a probe of the VPN goes down (its check-ins go on).
    const setProbesDown = (count: number) =>
      app
        .get(Database)
        .transaction((manager) => app.get(InstanceDependenciesService).setProbesDown(vpn.id, count, manager));
    await setProbesDown(1);
    await dispatch();
    await elapse(app, clock, 2 * DELAY);
    assert.equal((await get(vpn.id)).health, 'up');
    assert.equal((await get(vpn.id)).probes_down, 1);
    assert.deepEqual(await alerts(db, odoo.id), []);
    assert.equal((await get(odoo.id)).suppressed_by_id, vpn.id);
    assert.deepEqual(about(await dispatch(), 'Three'), []);
    await setProbesDown(0);
    await elapse(app, clock, 30);
    assert.deepEqual(await alerts(db, odoo.id), ['down']);
    assert.deepEqual(about(await dispatch(), 'Three'), ["Dead man's switch warning: Odoo Three"]);
  });
});
