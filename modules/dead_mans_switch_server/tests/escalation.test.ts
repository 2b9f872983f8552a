import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, NotificationDispatcher, SettingsService } from '../../../src/index.js';
import { ADMIN, startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../../../test/harness/database.js';
import { newPartner, newUser, type NewUser } from '../../../test/harness/factories.js';
import { Api } from '../../../test/harness/http.js';
import { startSmtp, type SmtpSink } from '../../../test/harness/smtp.js';
import { EscalationService } from '../incidents/escalation.service.js';
import { SETTINGS } from '../settings.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';
import { instanceByUuid, jsonRpc, newUuid, postAlive, postInstanceEndpoint } from './helpers.js';

const DELAY = 60;
const INSTANCES = '/api/v1/dead_mans_switch/instances';
const INCIDENTS = '/api/v1/dead_mans_switch/incidents';

describe('escalation: each step of an unacknowledged incident told exactly once, across two replicas', () => {
  let db: string;
  let first: TestApp;
  let second: TestApp;
  let smtp: SmtpSink;
  let admin: Api;
  let customerId: number;
  let oncall: NewUser;
  let boss: NewUser;
  const clock = new ManualClock(new Date('2025-10-01T08:00:00Z'));

  /** Both replicas run the watchdog and the escalation task at the same instants, every 30 s, for `seconds`. */
  async function race(seconds: number): Promise<void> {
    for (let done = 0; done < seconds; done += 30) {
      clock.advance(30);
      await Promise.all([first, second].map((app) => app.get(WatchdogService).runPass()));
      await Promise.all([first, second].map((app) => app.get(EscalationService).runDue()));
    }
    await Promise.all([first, second].map((app) => app.get(NotificationDispatcher).dispatchDue()));
  }

  async function activeInstance(): Promise<{ id: number; uuid: string }> {
    const uuid = newUuid();
    assert.equal((await postAlive(first, { database_uuid: uuid })).status, 200);
    const { id } = await instanceByUuid(db, uuid);
    const patched = await admin.patch(`${INSTANCES}/${id}`, {
      partner_id: customerId,
      alive_max_delay: DELAY,
    });
    assert.equal(patched.status, 200);
    assert.equal((await admin.post(`${INSTANCES}/${id}/activate`)).status, 200);
    return { id, uuid };
  }

  const escalationMails = (email: string) =>
    smtp.to(email).filter((m) => m.subject.startsWith('Escalation:'));

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    [first, second] = await Promise.all(
      [0, 1].map(() => startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } })),
    );
    admin = await new Api(first.url).login(ADMIN.email, ADMIN.password);
    await first.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '1000');
    await first.get(SettingsService).set('web.base_url', first.url);
    const customer = await newPartner(first, { name: 'Escalated Ltd', is_company: true, customer: true });
    customerId = customer.id;
    oncall = await newUser(first, { roles: ['ops'], email: 'oncall@ops.test', name: 'On Call' });
    boss = await newUser(first, { roles: ['manager'], email: 'boss@ops.test', name: 'The Boss' });
    await first.get(WatchdogService).runPass();
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('a policy is checked, set per customer, and an instance follows it unless it has its own', async () => {
    const policy = `/api/v1/dead_mans_switch/customers/${customerId}/escalation`;
    const bad = await admin.put(policy, {
      steps: [
        { after_minutes: 30, user_ids: [oncall.id] },
        { after_minutes: 15, user_ids: [boss.id] },
      ],
    });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /Step 2 must come later/);
    assert.equal(
      (await admin.put(policy, { steps: [{ after_minutes: 15, user_ids: [999_999] }] })).status,
      400,
    );
    assert.equal((await admin.put(policy, { steps: [{ after_minutes: 15 }] })).status, 400);
    // Channels are checked when the policy is saved, not when it escalates: unknown, disabled, archived owner.
    await first.get(SettingsService).set('mail.channels.allow_private_networks', '1');
    const hook = await admin.post('/api/v1/me/channels', {
      kind: 'webhook',
      name: 'Night pager',
      settings: { url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-16-chars-or-more' },
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const channelId = (hook.body as { id: number }).id;
    const refused = async (channel_ids: number[], message: RegExp, lang = 'en') => {
      const answer = await admin
        .withHeaders({ 'accept-language': lang })
        .put(policy, { steps: [{ after_minutes: 15, user_ids: [oncall.id], channel_ids }] });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match(JSON.stringify(answer.body), message);
    };
    await refused([channelId, 999_999], /Alert channel 999999 does not exist/);
    await refused([999_999], /Le canal d'alerte 999999 n'existe pas/, 'fr');
    assert.equal((await admin.patch(`/api/v1/me/channels/${channelId}`, { active: false })).status, 200);
    await refused([channelId], new RegExp(`Alert channel ${channelId} \\(Night pager\\) is disabled`));
    const outsider = await newPartner(first, { name: 'Former Contractor' });
    const theirs = await admin.post(`/api/v1/partners/${outsider.id}/channels`, {
      kind: 'webhook',
      name: 'Their hook',
      settings: { url: 'http://127.0.0.1:9/theirs', secret: 'a-secret-of-16-chars-or-more' },
    });
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    const theirId = (theirs.body as { id: number }).id;
    assert.equal((await admin.delete(`/api/v1/partners/${outsider.id}`)).status, 204);
    await refused(
      [theirId],
      new RegExp(`Alert channel ${theirId} \\(Their hook\\) belongs to an archived contact`),
    );
    assert.equal((await admin.patch(`/api/v1/me/channels/${channelId}`, { active: true })).status, 200);
    const withChannel = await admin.put(policy, {
      steps: [{ after_minutes: 15, user_ids: [oncall.id], channel_ids: [channelId] }],
    });
    assert.equal(withChannel.status, 200, JSON.stringify(withChannel.body));
    const viewer = await newUser(first, { roles: ['viewer'] });
    const viewerApi = await new Api(first.url).login(viewer.email, viewer.password);
    assert.equal((await viewerApi.put(policy, { steps: [] })).status, 403);

    const set = await admin.put(policy, {
      steps: [
        { after_minutes: 15, user_ids: [oncall.id] },
        { after_minutes: 30, user_ids: [boss.id] },
      ],
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.source, 'customer');
    const { id } = await activeInstance();
    const inherited = await admin.get(`${INSTANCES}/${id}/escalation`);
    assert.equal(inherited.body.source, 'customer');
    assert.equal(inherited.body.steps.length, 2);
    const own = await admin.put(`${INSTANCES}/${id}/escalation`, {
      steps: [{ after_minutes: 5, user_ids: [boss.id] }],
    });
    assert.equal(own.body.source, 'instance');
    assert.equal((await admin.put(`${INSTANCES}/${id}/escalation`, { steps: [] })).body.source, 'customer');
    assert.equal((await admin.post(`${INSTANCES}/${id}/suspend`)).status, 200);
  });

  it('an unacknowledged incident escalates step by step, each step once although both replicas run the task', async () => {
    const { id, uuid } = await activeInstance();
    await race(2 * DELAY);
    const [incident] = (await admin.get(`${INCIDENTS}?instance_id=${id}`)).body.items as { id: number }[];
    assert.ok(incident, 'the down opened an incident');
    await race(14 * 60);
    assert.equal(escalationMails('oncall@ops.test').length, 0, 'not before 15 minutes');
    await race(60);
    assert.equal(escalationMails('oncall@ops.test').length, 1);
    assert.equal(escalationMails('boss@ops.test').length, 0);
    const mail = escalationMails('oncall@ops.test')[0];
    assert.match(mail.subject, new RegExp(`incident #${incident.id} not acknowledged after 15 min`));
    assert.match(mail.html, new RegExp(`/dead_mans_switch/ack/${incident.id}\\.${oncall.partner_id}\\.`));
    await race(20 * 60);
    assert.equal(escalationMails('oncall@ops.test').length, 1, 'step 1 told once');
    assert.equal(escalationMails('boss@ops.test').length, 1, 'step 2 told once');
    const told = await query<{ position: number; notified_at: Date }>(
      db,
      'SELECT position, notified_at FROM dead_mans_switch_incident_escalation WHERE incident_id = $1 ORDER BY position',
      [incident.id],
    );
    assert.deepEqual(
      told.map((t) => t.position),
      [1, 2],
    );
    const [{ n: notes }] = await query<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM mail_message WHERE model = 'dead_mans_switch.instance' AND res_id = $1
       AND body->>'key' = 'dead_mans_switch_server.incidents.escalated'`,
      [id],
    );
    assert.equal(notes, 2);
    await postAlive(first, jsonRpc({ database_uuid: uuid }));
    assert.equal((await admin.post(`${INSTANCES}/${id}/suspend`)).status, 200);
  });

  it('an instance no longer watched closes its incident with a note and escalates no further; activated, a new one opens', async () => {
    const incidentsOf = async (id: number) =>
      (await admin.get(`${INCIDENTS}?instance_id=${id}`)).body.items as {
        id: number;
        ended_at: string | null;
      }[];
    const notes = (id: number, key: string) =>
      query<{ body: { args: Record<string, unknown> } }>(
        db,
        `SELECT body FROM mail_message WHERE model = 'dead_mans_switch.instance' AND res_id = $1
         AND body->>'key' = $2 ORDER BY id`,
        [id, `dead_mans_switch_server.incidents.${key}`],
      );
    const escalated = async (incidentId: number) =>
      (
        await query<{ n: number }>(
          db,
          'SELECT count(*)::int AS n FROM dead_mans_switch_incident_escalation WHERE incident_id = $1',
          [incidentId],
        )
      )[0].n;
    const before = escalationMails('oncall@ops.test').length;

    // Suspended by a manager while down.
    const suspended = await activeInstance();
    // Cancelled by itself while down.
    const cancelled = await activeInstance();
    await race(2 * DELAY);
    const [down1] = await incidentsOf(suspended.id);
    const [down2] = await incidentsOf(cancelled.id);
    assert.ok(down1 && !down1.ended_at && down2 && !down2.ended_at, 'both downs opened an incident');
    await race(5 * 60);
    assert.equal((await admin.post(`${INSTANCES}/${suspended.id}/suspend`)).status, 200);
    const cancel = await postInstanceEndpoint(first, 'cancel', jsonRpc({ database_uuid: cancelled.uuid }));
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));

    for (const [instance, incident] of [
      [suspended, down1],
      [cancelled, down2],
    ] as const) {
      const shown = (await admin.get(`${INCIDENTS}/${incident.id}`)).body as { ended_at: string | null };
      assert.ok(shown.ended_at, `incident #${incident.id} closed when its instance stopped being watched`);
      const [note] = await notes(instance.id, 'closed_monitoring_stopped');
      assert.ok(note, 'the chatter says why it closed');
      assert.equal(note.body.args.id, incident.id);
    }
    // The chatter shows the note in the reader's language.
    const thread = `/api/v1/threads/dead_mans_switch.instance/${suspended.id}/messages`;
    const english = JSON.stringify((await admin.get(thread)).body);
    assert.match(
      english,
      new RegExp(`Incident #${down1.id} closed after [^:]+: monitoring of this instance stopped`),
    );
    const french = JSON.stringify((await admin.withHeaders({ 'accept-language': 'fr' }).get(thread)).body);
    assert.match(french, new RegExp(`Incident n°${down1.id} clos après [^:]+ : la surveillance`));

    // Long past its steps: nothing is told of them.
    await race(30 * 60);
    assert.equal(escalationMails('oncall@ops.test').length, before);
    assert.equal(await escalated(down1.id), 0);
    assert.equal(await escalated(down2.id), 0);

    // Activated again and still silent: a new incident through the watchdog, the old one stays closed.
    assert.equal((await admin.post(`${INSTANCES}/${suspended.id}/activate`)).status, 200);
    await race(2 * DELAY);
    const [fresh, old] = await incidentsOf(suspended.id);
    assert.ok(fresh && fresh.id !== down1.id && !fresh.ended_at, 'a new incident opened');
    assert.equal(old.id, down1.id);
    assert.ok(old.ended_at);
    assert.equal((await notes(suspended.id, 'opened')).length, 2);
    await race(15 * 60);
    assert.equal(await escalated(down1.id), 0, 'the old incident is not revived');
    assert.equal(await escalated(fresh.id), 1, 'the new one escalates as usual');
    await smtp.waitUntil(
      () => escalationMails('oncall@ops.test').length === before + 1,
      "the new incident's escalation e-mail",
    );
    await postAlive(first, jsonRpc({ database_uuid: suspended.uuid }));
    assert.equal((await admin.post(`${INSTANCES}/${suspended.id}/suspend`)).status, 200);
  });

  it('an acknowledged incident escalates no further', async () => {
    const { id, uuid } = await activeInstance();
    const before = escalationMails('oncall@ops.test').length;
    await race(2 * DELAY);
    const [incident] = (await admin.get(`${INCIDENTS}?instance_id=${id}`)).body.items as { id: number }[];
    await race(10 * 60);
    const ops = await new Api(first.url).login(oncall.email, oncall.password);
    assert.equal((await ops.post(`${INCIDENTS}/${incident.id}/acknowledge`)).status, 200);
    await race(30 * 60);
    assert.equal(escalationMails('oncall@ops.test').length, before);
    const [{ n }] = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM dead_mans_switch_incident_escalation WHERE incident_id = $1',
      [incident.id],
    );
    assert.equal(n, 0);
    await postAlive(first, jsonRpc({ database_uuid: uuid }));
  });
});
