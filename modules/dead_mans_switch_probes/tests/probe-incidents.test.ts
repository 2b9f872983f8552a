import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { ChatterService, ManualClock, NotificationDispatcher, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { webhookReceiver, type Receiver } from '../../../test/harness/receivers.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { EscalationService } from '../../dead_mans_switch_server/incidents/escalation.service.js';
import { SETTINGS } from '../../dead_mans_switch_server/settings.js';
import { activeInstance } from '../../dead_mans_switch_server/tests/helpers.js';
import { PROBE_SETTINGS } from '../probe-settings.js';
import { ProbesService } from '../probes.service.js';
import { HttpTarget } from './probe-servers.js';

const INTERVAL = 300;
/** Check-ins never go overdue in this test: only probes go down. */
const HEARTBEAT_DELAY = 86_400;
const SECRET = 'probe-incidents-secret-42';
const INSTANCES = '/api/v1/dead_mans_switch/instances';
const INCIDENTS = '/api/v1/dead_mans_switch/incidents';

type Incident = Record<string, any>;

describe('probe incidents: opened by a probe down, closed by its recovery, acknowledged from a channel, escalated to a channel', () => {
  let db: string;
  let app: TestApp;
  let admin: Api;
  let smtp: SmtpSink;
  const targets: HttpTarget[] = [];
  const receivers: Receiver[] = [];
  const clock = new ManualClock(new Date('2025-11-03T08:00:00Z'));

  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();
  const incidentsOf = async (instanceId: number, filter = ''): Promise<Incident[]> => {
    const listed = await admin.get(`${INCIDENTS}?instance_id=${instanceId}${filter}`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return listed.body.items as Incident[];
  };

  /** An active instance with one http probe on its own target (answering 200 until told otherwise). */
  async function probedInstance(): Promise<{
    id: number;
    uuid: string;
    probe: Incident;
    target: HttpTarget;
  }> {
    const target = await new HttpTarget().start();
    targets.push(target);
    const instance = await activeInstance(app, admin, { delay: HEARTBEAT_DELAY });
    const created = await admin.post(`${INSTANCES}/${instance.id}/probes`, {
      kind: 'http',
      name: 'login page',
      url: target.url('/web/login'),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { ...instance, probe: created.body, target };
  }

  /** Runs the due probes, then lets one interval pass. */
  async function probeRound(): Promise<void> {
    await app.get(ProbesService).runDue();
    clock.advance(INTERVAL);
  }

  /** A user with a webhook channel on its own receiver; returns the user, the channel's id and the receiver. */
  async function userWithWebhook(
    name: string,
  ): Promise<{ user: NewUser; channelId: number; hook: Receiver }> {
    const user = await newUser(app, { name });
    const api = new Api(
      app.url,
      await app.get(JwtService).signAsync({ sub: user.id, ver: 0, typ: 'api' }, { expiresIn: 3600 }),
    );
    const hook = await webhookReceiver(SECRET).start();
    receivers.push(hook);
    const created = await api.post('/api/v1/me/channels', {
      kind: 'webhook',
      name: `${name}'s webhook`,
      settings: { url: hook.url, secret: SECRET },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { user, channelId: created.body.id as number, hook };
  }

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    const settings = app.get(SettingsService);
    await settings.set(SETTINGS.maxRegistrationsPerHour, '1000');
    await settings.set(SETTINGS.maxRegistrationsGlobalPerHour, '1000');
    // Probe targets and webhook receivers listen on 127.0.0.1.
    await settings.set(PROBE_SETTINGS.privateNetworks, '1');
    await settings.set('mail.channels.allow_private_networks', '1');
    await settings.set('web.base_url', app.url);
  });

  after(async () => {
    await app?.close();
    await Promise.all([...targets.map((t) => t.stop()), ...receivers.map((r) => r.stop()), smtp?.stop()]);
    await dropDatabase(db);
  });

  it('a probe down opens an incident with cause probe (its id and kind), listed by instance; its recovery closes it', async () => {
    const { id, probe, target } = await probedInstance();
    await probeRound();
    target.status = 503;
    await probeRound();
    assert.deepEqual(await incidentsOf(id), [], 'one failure is not a down yet: no incident');
    await probeRound();
    const [opened, ...others] = await incidentsOf(id);
    assert.ok(opened, 'the probe down opened an incident');
    assert.deepEqual(others, []);
    assert.equal(opened.state, 'open');
    assert.equal(opened.cause, 'probe');
    assert.deepEqual(opened.probe, { id: probe.id, kind: 'http' });
    assert.equal(opened.ended_at, null);
    assert.deepEqual(
      opened.instances.map((m: { id: number }) => m.id),
      [id],
    );
    assert.deepEqual(
      (await incidentsOf(id, '&state=open')).map((i) => i.id),
      [opened.id],
    );

    await probeRound();
    assert.equal((await incidentsOf(id))[0].state, 'open', 'still down: still open, still one');

    target.status = 200;
    await probeRound();
    const [closed, ...more] = await incidentsOf(id);
    assert.deepEqual(more, [], 'the recovery opens nothing');
    assert.equal(closed.id, opened.id);
    assert.equal(closed.state, 'closed');
    assert.ok(closed.ended_at, 'the recovery ended it');
    assert.deepEqual(await incidentsOf(id, '&state=open'), []);
    const detail = await admin.get(`${INCIDENTS}/${opened.id}`);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.cause, 'probe');
    assert.equal(detail.body.duration_seconds, 2 * INTERVAL);
  });

  it('a probe still failing when its suspended instance is watched again goes down anew: a new incident opens', async () => {
    const { id, probe, target } = await probedInstance();
    await probeRound();
    target.status = 503;
    await probeRound();
    await probeRound();
    const [first] = await incidentsOf(id, '&state=open');
    assert.ok(first, 'the probe down opened an incident');
    // Suspending closes the incident (the server); the next pass makes the probe forget its state.
    assert.equal((await admin.post(`${INSTANCES}/${id}/suspend`)).status, 200);
    assert.deepEqual(await incidentsOf(id, '&state=open'), []);
    await probeRound();
    const forgotten = await admin.get(`/api/v1/dead_mans_switch/probes/${probe.id}`);
    assert.equal(forgotten.body.state, 'unknown', JSON.stringify(forgotten.body));
    assert.equal((await admin.post(`${INSTANCES}/${id}/activate`)).status, 200);
    // Still failing: down again after the failures it takes, with an incident of its own.
    await probeRound();
    await probeRound();
    const open = await incidentsOf(id, '&state=open');
    assert.equal(open.length, 1, JSON.stringify(open));
    assert.notEqual(open[0].id, first.id);
    assert.deepEqual(open[0].probe, { id: probe.id, kind: 'http' });
    target.status = 200;
    await probeRound();
    assert.deepEqual(await incidentsOf(id, '&state=open'), []);
  });

  it('the down alert in a webhook channel carries an acknowledge action: GET shows it, POST acknowledges', async () => {
    const { id, target } = await probedInstance();
    const { user: ann, hook } = await userWithWebhook('Ann');
    await app.get(ChatterService).follow({ model: 'dead_mans_switch.instance', id }, ann.partner_id);
    target.status = 503;
    await probeRound();
    await probeRound();
    const [incident] = await incidentsOf(id, '&state=open');
    assert.ok(incident, 'the probe down opened an incident');
    await dispatch();
    const downs = hook.accepted.filter((r) => r.json.subtype === 'dead_mans_switch.mt_probe_down');
    assert.equal(downs.length, 1, hook.requests.map((r) => r.body).join('\n'));
    const { actions } = downs[0].json as { actions: { label: string; url: string }[] };
    assert.equal(actions.length, 1, JSON.stringify(actions));
    assert.match(actions[0].label, new RegExp(`#${incident.id}\\b`));
    const link = actions[0].url;
    assert.ok(link.startsWith(`${app.url}/dead_mans_switch/ack/${incident.id}.${ann.partner_id}.`), link);

    // Opening it (a mail scanner, a chat preview) changes nothing.
    const page = await fetch(link);
    assert.equal(page.status, 200);
    await page.text();
    assert.equal((await admin.get(`${INCIDENTS}/${incident.id}`)).body.acknowledged_at, null);

    const posted = await fetch(link, { method: 'POST' });
    assert.equal(posted.status, 200, await posted.text());
    const acknowledged = (await admin.get(`${INCIDENTS}/${incident.id}`)).body;
    assert.ok(acknowledged.acknowledged_at);
    assert.equal(acknowledged.acknowledged_by.partner_id, ann.partner_id);
    const again = await fetch(link, { method: 'POST' });
    assert.equal(again.status, 410, 'a link acknowledges once');
    await again.text();

    target.status = 200;
    await probeRound();
    await dispatch();
    const ups = hook.accepted.filter((r) => r.json.subtype === 'dead_mans_switch.mt_probe_up');
    assert.equal(ups.length, 1);
    assert.deepEqual(ups[0].json.actions, [], 'the recovery closed the incident: nothing to acknowledge');
  });

  it('an escalation step naming an alert channel delivers to it once, and not for an acknowledged incident', async () => {
    const { id, target } = await probedInstance();
    // The desk's channel is reached only through the policy: its owner does not follow the instance.
    const { user: desk, channelId, hook } = await userWithWebhook('Escalation desk');
    const policy = await admin.put(`${INSTANCES}/${id}/escalation`, {
      steps: [{ after_minutes: 10, channel_ids: [channelId] }],
    });
    assert.equal(policy.status, 200, JSON.stringify(policy.body));
    assert.equal(policy.body.source, 'instance');

    /** Lets `seconds` pass minute by minute, running the escalation task and delivering each minute. */
    const pass = async (seconds: number) => {
      for (let done = 0; done < seconds; done += 60) {
        clock.advance(60);
        await app.get(EscalationService).runDue();
        await dispatch();
      }
    };

    target.status = 503;
    await app.get(ProbesService).runDue();
    clock.advance(INTERVAL);
    await app.get(ProbesService).runDue();
    const [incident] = await incidentsOf(id, '&state=open');
    assert.ok(incident, 'the probe down opened an incident');
    await pass(9 * 60);
    assert.equal(hook.requests.length, 0, 'not before 10 minutes');
    await pass(60);
    assert.equal(hook.accepted.length, 1, hook.requests.map((r) => r.body).join('\n'));
    const told = hook.accepted[0].json;
    assert.match(told.subject, new RegExp(`^Escalation:.*incident #${incident.id}\\b`));
    assert.ok(
      told.actions.some((a: { url: string }) =>
        a.url.startsWith(`${app.url}/dead_mans_switch/ack/${incident.id}.${desk.partner_id}.`),
      ),
      JSON.stringify(told.actions),
    );
    await pass(30 * 60);
    assert.equal(hook.requests.length, 1, 'the step is told once');

    // Back up, then down again: a new incident, acknowledged before its step is due, escalates to no one.
    target.status = 200;
    await app.get(ProbesService).runDue();
    clock.advance(INTERVAL);
    target.status = 503;
    await app.get(ProbesService).runDue();
    clock.advance(INTERVAL);
    await app.get(ProbesService).runDue();
    const [second] = await incidentsOf(id, '&state=open');
    assert.ok(second, 'the second down opened a new incident');
    assert.notEqual(second.id, incident.id);
    await pass(5 * 60);
    assert.equal((await admin.post(`${INCIDENTS}/${second.id}/acknowledge`)).status, 200);
    await pass(30 * 60);
    assert.equal(hook.requests.length, 1, 'an acknowledged incident is not escalated');
  });
});
