/**
 * The chaos test (run by hand: `npm run chaos`; about four to six minutes, too long for CI).
 *
 * Three replicas of the real server on one PostgreSQL and a real SMTP server; 30 instances check in, each followed
 * by two people. Half of them go silent while a random replica is killed with SIGKILL every few seconds and
 * restarted; once all of those are down, they check in again. It asserts, per instance: exactly one down message
 * and one recovery message in the chatter, exactly one e-mail of each per follower (by Message-ID; a re-delivery
 * after a crash between the SMTP reply and the commit carries the same Message-ID, and is counted and reported),
 * and nothing for the instances that kept checking in. Each follower also has a signed webhook channel on a real
 * receiver that verifies the signature: per instance and follower, exactly one webhook notification of each kind,
 * received with its notification's Idempotency-Key (one distinct key per alert per channel; a re-delivery carries the
 * same key and is counted and reported). Escalation: each silent instance has a one-step policy (one minute, the
 * API's floor) naming a user who follows nothing and her webhook channel; one incident is acknowledged through the
 * API as soon as it opens, and the kills go on until every other incident escalated and the acknowledged one's step
 * is long past due. Per incident: exactly one (incident, step) row, one escalation message, one 'escalated' note in
 * the instance's chatter, one e-mail to her (by Message-ID) and one webhook to her channel (by Idempotency-Key),
 * nothing for the acknowledged incident. Exits 0 when every assertion holds, 1 otherwise.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { query } from '../harness/database.js';
import { freePort, spawnVigil, waitForHttp, type VigilProcess } from '../harness/process.js';
import { webhookReceiver, type Receiver } from '../harness/receivers.js';
import { startSmtp } from '../harness/smtp.js';

const INSTANCES = 30;
const SILENT = 15;
/** Seconds: set directly in the database, below the API's one-minute floor, so that a run takes minutes. */
const DELAY = 20;
const CHECK_IN_EVERY_MS = 5_000;
/** Minutes: the escalation step's delay, the API's floor. */
const ESCALATE_AFTER = 1;
const ADMIN = { email: 'admin@chaos.test', password: 'chaos-admin-password' };
const WEBHOOK_SECRET = 'chaos-webhook-secret-0123456789';

const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-chaos-'));
  const database = await startEmbeddedDatabase({ dataDir, database: 'vigil_chaos' });
  const db = database.url;
  const smtp = await startSmtp();
  const hooks: Receiver[] = [];
  const ports = [await freePort(), await freePort(), await freePort()];
  const replicas: (VigilProcess | undefined)[] = [undefined, undefined, undefined];
  const start = (i: number) => {
    const replica = spawnVigil({
      PORT: String(ports[i]),
      DATABASE_URL: db,
      DATA_DIR: join(dataDir, `replica-${i}`),
      SESSION_SECRET: 'chaos-test-session-secret-long-enough',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      SMTP_URL: smtp.url,
    });
    replicas[i] = replica;
    return waitForHttp(`http://127.0.0.1:${ports[i]}/monitoring/ready`, replica);
  };
  const failures: string[] = [];
  try {
    await Promise.all([0, 1, 2].map(start));
    log(`3 replicas on ports ${ports.join(', ')}, SMTP on ${smtp.port}`);
    // One load generator stands for 30 customers: lift the per-source registration cap.
    await query(
      db,
      "UPDATE setting SET value = '1000' WHERE key IN ('dead_mans_switch.max_registrations_per_hour', 'dead_mans_switch.max_registrations_global_per_hour')",
    );
    // The test counts each instance's own e-mails: 15 instances going down together must not be grouped into a
    // storm incident (the storm breaker has its own test).
    await query(db, "UPDATE setting SET value = '1000' WHERE key = 'dead_mans_switch.storm_threshold'");
    // The webhook receivers live on 127.0.0.1.
    await query(db, "UPDATE setting SET value = '1' WHERE key = 'mail.channels.allow_private_networks'");

    const api = (path: string, token: string, method = 'GET', body?: unknown) =>
      fetch(`http://127.0.0.1:${ports[0]}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));
    const login = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const token = login.access_token;
    const followers: { partnerId: number; email: string; hook: Receiver }[] = [];
    for (const name of ['Ann', 'Bob']) {
      const email = `${name.toLowerCase()}@chaos.test`;
      const user = await api('/api/v1/users', token, 'POST', {
        email,
        password: 'follower-password-1',
        name,
        roles: ['viewer'],
      });
      if (user.status !== 201) throw new Error(`user: ${JSON.stringify(user.body)}`);
      const hook = await webhookReceiver(WEBHOOK_SECRET).start();
      hooks.push(hook);
      const own = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'follower-password-1' }),
      }).then((r) => r.json() as Promise<{ access_token: string }>);
      const channel = await api('/api/v1/me/channels', own.access_token, 'POST', {
        kind: 'webhook',
        name: `${name}'s webhook`,
        settings: { url: `${hook.url}/vigil`, secret: WEBHOOK_SECRET },
      });
      if (channel.status !== 201) throw new Error(`channel: ${JSON.stringify(channel.body)}`);
      followers.push({ partnerId: user.body.partner_id as number, email, hook });
    }
    // The escalation step's recipient: a user who follows nothing, and her own webhook channel, named in the step
    // as a channel too (a step's channel of a user it names is reached once, with the user's channels).
    const escalated = { email: 'eve@chaos.test', userId: 0, partnerId: 0, channelId: 0, hook: hooks[0] };
    {
      const user = await api('/api/v1/users', token, 'POST', {
        email: escalated.email,
        password: 'escalated-password-1',
        name: 'Eve',
        roles: ['ops'],
      });
      if (user.status !== 201) throw new Error(`user: ${JSON.stringify(user.body)}`);
      escalated.userId = user.body.id as number;
      escalated.partnerId = user.body.partner_id as number;
      escalated.hook = await webhookReceiver(WEBHOOK_SECRET).start();
      hooks.push(escalated.hook);
      const own = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: escalated.email, password: 'escalated-password-1' }),
      }).then((r) => r.json() as Promise<{ access_token: string }>);
      const channel = await api('/api/v1/me/channels', own.access_token, 'POST', {
        kind: 'webhook',
        name: "Eve's webhook",
        settings: { url: `${escalated.hook.url}/vigil`, secret: WEBHOOK_SECRET },
      });
      if (channel.status !== 201) throw new Error(`channel: ${JSON.stringify(channel.body)}`);
      escalated.channelId = channel.body.id as number;
    }

    // Check-ins go to a random replica; one that is down or answers 503 is tried again on another.
    let alive = true;
    const checkIn = async (uuid: string): Promise<boolean> => {
      for (let attempt = 0; attempt < 6; attempt++) {
        const port = ports[Math.floor(Math.random() * 3)];
        try {
          const response = await fetch(`http://127.0.0.1:${port}/dead_mans_switch/alive`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ database_uuid: uuid, cpu: 1, ram: 1, user_count: 1 }),
          });
          if (response.status === 200) return true;
        } catch {
          // That replica is being killed or restarted.
        }
        await delay(200);
      }
      return false;
    };
    const uuids = Array.from({ length: INSTANCES }, () => randomUUID());
    for (const uuid of uuids) if (!(await checkIn(uuid))) throw new Error('could not register');
    const ids: number[] = [];
    for (const uuid of uuids) {
      const [{ id }] = await query<{ id: number }>(
        db,
        'SELECT id FROM dead_mans_switch_instance WHERE database_uuid = $1',
        [uuid],
      );
      ids.push(id);
      for (const f of followers) {
        const followed = await api(
          `/api/v1/threads/dead_mans_switch.instance/${id}/followers`,
          token,
          'POST',
          {
            partner_id: f.partnerId,
          },
        );
        if (followed.status >= 300) throw new Error(`follow: ${JSON.stringify(followed.body)}`);
      }
      const activated = await api(`/api/v1/dead_mans_switch/instances/${id}/activate`, token, 'POST');
      if (activated.status !== 200) throw new Error(`activate: ${JSON.stringify(activated.body)}`);
    }
    await query(db, 'UPDATE dead_mans_switch_instance SET alive_max_delay = $1', [DELAY]);
    log(`${INSTANCES} instances active (delay ${DELAY} s), each followed by ${followers.length} people`);

    const silent = new Set(ids.slice(0, SILENT));
    // Each silent instance's escalation policy, through the API (its floor, one minute, is short enough): one step,
    // one minute after the incident opened, naming Eve and her webhook channel.
    for (const id of silent) {
      const policy = await api(`/api/v1/dead_mans_switch/instances/${id}/escalation`, token, 'PUT', {
        steps: [
          { after_minutes: ESCALATE_AFTER, user_ids: [escalated.userId], channel_ids: [escalated.channelId] },
        ],
      });
      if (policy.status !== 200 || policy.body.source !== 'instance')
        throw new Error(`escalation policy: ${JSON.stringify(policy.body)}`);
    }
    /** The silent instance whose incident is acknowledged (through the API) before its step is due. */
    const acknowledgedInstance = ids[0];
    let silenced = false;
    let missedCheckIns = 0;
    const clients = uuids.map(async (uuid, i) => {
      while (alive) {
        if (!(silenced && silent.has(ids[i]))) {
          if (!(await checkIn(uuid))) missedCheckIns++;
        }
        await delay(CHECK_IN_EVERY_MS);
      }
    });

    // The chaos: every 3 to 6 s a random replica is killed with SIGKILL and started again a second later.
    let kills = 0;
    let chaos = true;
    const monkey = (async () => {
      while (chaos) {
        await delay(3000 + Math.random() * 3000);
        if (!chaos) break;
        const i = Math.floor(Math.random() * 3);
        const victim = replicas[i]!;
        victim.child.kill('SIGKILL');
        await victim.exited;
        kills++;
        await delay(1000);
        await start(i);
      }
    })();

    /** How many instances have a message of this subtype in their chatter. */
    const alerted = async (subtype: string) =>
      (
        await query<{ n: number }>(
          db,
          `SELECT count(DISTINCT m.res_id)::int AS n FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
           WHERE m.model = 'dead_mans_switch.instance' AND s.key = $1`,
          [subtype],
        )
      )[0].n;
    const downs = () => alerted('dead_mans_switch.mt_instance_down');
    const ups = () => alerted('dead_mans_switch.mt_instance_up');
    const waitUntil = async (what: string, condition: () => Promise<boolean>, seconds: number) => {
      const deadline = Date.now() + seconds * 1000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`gave up after ${seconds} s waiting for ${what}`);
        await delay(1000);
      }
    };

    // API calls while replicas die: a random replica, another one when it is down.
    const anyApi = async (path: string, method = 'GET') => {
      for (let attempt = 0; attempt < 10; attempt++) {
        const port = ports[Math.floor(Math.random() * 3)];
        try {
          const response = await fetch(`http://127.0.0.1:${port}${path}`, {
            method,
            headers: { authorization: `Bearer ${token}` },
          });
          if (response.status !== 502 && response.status !== 503) return response.status;
        } catch {
          // That replica is being killed or restarted.
        }
        await delay(300);
      }
      return 0;
    };
    const incidentOf = async (instanceId: number) =>
      (
        await query<{ id: number }>(
          db,
          `SELECT n.id FROM dead_mans_switch_incident n JOIN dead_mans_switch_incident_instance ii
           ON ii.incident_id = n.id WHERE ii.instance_id = $1 ORDER BY n.id LIMIT 1`,
          [instanceId],
        )
      )[0]?.id;
    const escalationRows = async () =>
      (
        await query<{ n: number }>(db, 'SELECT count(*)::int AS n FROM dead_mans_switch_incident_escalation')
      )[0].n;

    await delay(10_000);
    silenced = true;
    log(`${SILENT} instances go silent; chaos runs`);
    // As soon as its incident opens, one incident is acknowledged (its step is due a minute later).
    const acknowledging = (async () => {
      const deadline = Date.now() + (6 * DELAY + 120) * 1000;
      let incident: number | undefined;
      while (!(incident = await incidentOf(acknowledgedInstance))) {
        if (Date.now() > deadline) return 'its incident never opened';
        await delay(500);
      }
      const status = await anyApi(`/api/v1/dead_mans_switch/incidents/${incident}/acknowledge`, 'POST');
      return status === 200 ? undefined : `acknowledging incident ${incident} answered ${status}`;
    })();
    await waitUntil(`${SILENT} instances down`, async () => (await downs()) >= SILENT, 6 * DELAY + 120);
    const ackFailure = await acknowledging;
    if (ackFailure)
      throw new Error(`acknowledgement of instance ${acknowledgedInstance}'s incident: ${ackFailure}`);
    log(`all ${SILENT} silent instances are down (${kills} kills so far); one incident acknowledged`);
    // The kills go on while the escalation steps become due: every incident but the acknowledged one escalates,
    // and the wait goes on until the acknowledged one's step is well past due (a minute and two task runs).
    await waitUntil(
      `${SILENT - 1} escalations`,
      async () => (await escalationRows()) >= SILENT - 1,
      ESCALATE_AFTER * 60 + 180,
    );
    await waitUntil(
      "the acknowledged incident's step long past due",
      async () =>
        (
          await query<{ past: boolean }>(
            db,
            `SELECT now() > n.started_at + make_interval(mins => $2) + interval '70 seconds' AS past
             FROM dead_mans_switch_incident n WHERE n.id = $1`,
            [await incidentOf(acknowledgedInstance), ESCALATE_AFTER],
          )
        )[0].past,
      ESCALATE_AFTER * 60 + 180,
    );
    log(`escalations told (${kills} kills so far); the silent instances check in again`);
    silenced = false;
    await waitUntil(`${SILENT} recoveries`, async () => (await ups()) >= SILENT, 120);
    const pendingMail = async () =>
      (
        await query<{ n: number }>(
          db,
          "SELECT count(*)::int AS n FROM mail_notification WHERE channel IN ('email', 'webhook') AND state <> 'sent'",
        )
      )[0].n;
    await waitUntil('every e-mail and webhook sent', async () => (await pendingMail()) === 0, 180);
    chaos = false;
    await monkey;
    alive = false;
    await Promise.all(clients);
    log(`chaos over: ${kills} replicas killed with SIGKILL`);

    // The verdict, per instance.
    const messages = await query<{ res_id: number; key: string; body: string | null }>(
      db,
      `SELECT m.res_id, s.key, m.body->>'key' AS body FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
       WHERE m.model = 'dead_mans_switch.instance'
         AND s.key IN ('dead_mans_switch.mt_instance_down', 'dead_mans_switch.mt_instance_up')`,
    );
    const mails = await query<{
      email_message_id: string;
      res_id: number;
      key: string;
      body: string;
      email: string;
    }>(
      db,
      `SELECT n.email_message_id, m.res_id, s.key, m.body->>'key' AS body, p.email FROM mail_notification n
       JOIN mail_message m ON m.id = n.message_id JOIN mail_subtype s ON s.id = m.subtype_id
       JOIN partner p ON p.id = n.partner_id
       WHERE n.channel = 'email' AND m.model = 'dead_mans_switch.instance'`,
    );
    const received = new Map<string, number>();
    for (const mail of smtp.mails) received.set(mail.messageId, (received.get(mail.messageId) ?? 0) + 1);
    const kindOf = (row: { key: string; body: string | null }) =>
      row.key.endsWith('_up') ? 'up' : /\.reminder_body(_\w+)?$/.test(row.body ?? '') ? 'reminder' : 'down';
    let reminders = 0;
    for (const id of ids) {
      const own = messages.filter((m) => m.res_id === id);
      const count = (kind: string) => own.filter((m) => kindOf(m) === kind).length;
      reminders += count('reminder');
      const expected = silent.has(id) ? 1 : 0;
      if (count('down') !== expected || count('up') !== expected)
        failures.push(
          `instance ${id}: ${count('down')} down and ${count('up')} recovery messages, expected ${expected} of each`,
        );
      for (const f of followers) {
        for (const kind of ['down', 'up']) {
          const rows = mails.filter((m) => m.res_id === id && m.email === f.email && kindOf(m) === kind);
          if (rows.length !== expected)
            failures.push(
              `instance ${id}: ${rows.length} ${kind} e-mails for ${f.email}, expected ${expected}`,
            );
          for (const row of rows)
            if (!received.has(row.email_message_id))
              failures.push(
                `instance ${id}: the ${kind} e-mail ${row.email_message_id} never reached ${f.email}`,
              );
        }
      }
    }
    // Webhooks: one notification per alert per follower's channel, each received under its own Idempotency-Key.
    const calls = await query<{ id: string; res_id: number; key: string; body: string; partner_id: number }>(
      db,
      `SELECT n.id, m.res_id, s.key, m.body->>'key' AS body, n.partner_id FROM mail_notification n
       JOIN mail_message m ON m.id = n.message_id JOIN mail_subtype s ON s.id = m.subtype_id
       WHERE n.channel = 'webhook' AND m.model = 'dead_mans_switch.instance'`,
    );
    let hookDuplicates = 0;
    let hookKeys = 0;
    for (const f of followers) {
      const keys = new Map<string, number>();
      for (const request of f.hook.accepted) {
        const key = String(request.headers['idempotency-key']);
        keys.set(key, (keys.get(key) ?? 0) + 1);
      }
      hookKeys += keys.size;
      hookDuplicates += [...keys.values()].reduce((sum, n) => sum + n - 1, 0);
      const own = calls.filter((c) => c.partner_id === f.partnerId);
      if (f.hook.requests.length !== f.hook.accepted.length)
        failures.push(
          `${f.email}'s webhook refused ${f.hook.requests.length - f.hook.accepted.length} requests`,
        );
      for (const id of ids) {
        const expected = silent.has(id) ? 1 : 0;
        for (const kind of ['down', 'up']) {
          const rows = own.filter((c) => c.res_id === id && kindOf(c) === kind);
          if (rows.length !== expected)
            failures.push(
              `instance ${id}: ${rows.length} ${kind} webhooks for ${f.email}, expected ${expected}`,
            );
          for (const row of rows)
            if (!keys.has(row.id))
              failures.push(
                `instance ${id}: the ${kind} webhook ${row.id} never reached ${f.email}'s receiver`,
              );
        }
      }
      const strayKeys = [...keys.keys()].filter((key) => !own.some((c) => c.id === key));
      if (strayKeys.length) failures.push(`${strayKeys.length} webhooks with an unknown Idempotency-Key`);
    }
    log(
      `webhooks: ${calls.length} to send, ${hookKeys} distinct Idempotency-Keys received, ` +
        `${hookDuplicates} re-delivered with the same key`,
    );
    const duplicates = [...received.values()].reduce((sum, n) => sum + n - 1, 0);
    const downMails = mails.filter((m) => kindOf(m) === 'down').length;
    const upMails = mails.filter((m) => kindOf(m) === 'up').length;
    log(
      `verdict: ${kills} kills; ${messages.length - reminders} alerts (${SILENT} down, ${SILENT} up) and ` +
        `${reminders} reminders in the chatter; ${downMails} down and ${upMails} up e-mails to send, ` +
        `${received.size} distinct Message-IDs received (escalations included), ${duplicates} re-delivered with the ` +
        `same Message-ID; ` +
        `${missedCheckIns} check-ins that no replica took`,
    );

    // Escalation, per silent instance's incident: one (incident, step) row, one escalation message, one e-mail to
    // Eve (received under its Message-ID), one webhook to her channel (received under its Idempotency-Key); none
    // of these for the incident acknowledged before its step was due.
    const incidents = await query<{ id: number; instance_id: number; late_ack: boolean | null }>(
      db,
      `SELECT n.id, ii.instance_id,
         n.acknowledged_at >= n.started_at + make_interval(mins => $1) AS late_ack
       FROM dead_mans_switch_incident n JOIN dead_mans_switch_incident_instance ii ON ii.incident_id = n.id`,
      [ESCALATE_AFTER],
    );
    const steps = await query<{ incident_id: number; position: number; message_id: number | null }>(
      db,
      'SELECT incident_id, position, message_id FROM dead_mans_switch_incident_escalation',
    );
    const escalationMessages = await query<{ id: number; incident_id: number }>(
      db,
      `SELECT id, (template_values->'incident_ids'->>0)::int AS incident_id FROM mail_message
       WHERE body->>'key' = 'dead_mans_switch_server.incidents.escalation_body'`,
    );
    const escalationNotes = await query<{ id: number; n: number }>(
      db,
      `SELECT (body->'args'->>'id')::int AS id, count(*)::int AS n FROM mail_message
       WHERE model = 'dead_mans_switch.instance' AND body->>'key' = 'dead_mans_switch_server.incidents.escalated'
       GROUP BY 1`,
    );
    const escalationSends = await query<{
      id: string;
      message_id: number;
      channel: string;
      channel_id: number | null;
      partner_id: number;
      email_message_id: string | null;
    }>(
      db,
      `SELECT n.id, n.message_id, n.channel, n.channel_id, n.partner_id, n.email_message_id FROM mail_notification n
       WHERE n.message_id = ANY($1::int[]) AND n.channel IN ('email', 'webhook')`,
      [escalationMessages.map((m) => m.id)],
    );
    const eveKeys = new Map<string, number>();
    for (const request of escalated.hook.accepted) {
      const key = String(request.headers['idempotency-key']);
      eveKeys.set(key, (eveKeys.get(key) ?? 0) + 1);
    }
    if (escalated.hook.requests.length !== escalated.hook.accepted.length)
      failures.push(
        `${escalated.email}'s webhook refused ${escalated.hook.requests.length - escalated.hook.accepted.length} requests`,
      );
    let escalationMails = 0;
    let escalationMailDuplicates = 0;
    for (const id of ids) {
      const own = incidents.filter((n) => n.instance_id === id);
      if (own.length !== (silent.has(id) ? 1 : 0)) {
        failures.push(`instance ${id}: ${own.length} incidents, expected ${silent.has(id) ? 1 : 0}`);
        continue;
      }
      if (!silent.has(id)) continue;
      const incident = own[0];
      const acknowledged = id === acknowledgedInstance;
      if (acknowledged && incident.late_ack !== false)
        failures.push(
          `incident ${incident.id}: acknowledged ${incident.late_ack ? 'after its step was due' : 'never'}; ` +
            'the test meant to acknowledge it before',
        );
      const expected = acknowledged ? 0 : 1;
      const what = `incident ${incident.id} (instance ${id}${acknowledged ? ', acknowledged' : ''})`;
      const rows = steps.filter((s) => s.incident_id === incident.id);
      if (rows.length !== expected || rows.some((r) => r.position !== 1))
        failures.push(
          `${what}: escalation rows for steps [${rows.map((r) => r.position).join(', ')}], expected ${expected ? '[1]' : 'none'}`,
        );
      const told = escalationMessages.filter((m) => m.incident_id === incident.id);
      if (told.length !== expected)
        failures.push(`${what}: ${told.length} escalation messages, expected ${expected}`);
      const notes = escalationNotes.find((n) => n.id === incident.id)?.n ?? 0;
      if (notes !== expected)
        failures.push(`${what}: ${notes} 'escalated' notes in the instance's chatter, expected ${expected}`);
      for (const row of rows)
        if (!told.some((m) => m.id === row.message_id))
          failures.push(
            `${what}: the escalation row's message ${row.message_id} is not its escalation message`,
          );
      const sends = escalationSends.filter((n) => told.some((m) => m.id === n.message_id));
      const toEve = sends.filter((n) => n.channel === 'email' && n.partner_id === escalated.partnerId);
      if (toEve.length !== expected)
        failures.push(
          `${what}: ${toEve.length} escalation e-mails to ${escalated.email}, expected ${expected}`,
        );
      for (const mail of toEve) {
        const copies = smtp.mails.filter((m) => m.messageId === mail.email_message_id);
        escalationMails += copies.length ? 1 : 0;
        escalationMailDuplicates += Math.max(0, copies.length - 1);
        if (!copies.length)
          failures.push(
            `${what}: the escalation e-mail ${mail.email_message_id} never reached ${escalated.email}`,
          );
        else if (!copies.every((m) => m.subject.startsWith('Escalation:') && m.to.includes(escalated.email)))
          failures.push(
            `${what}: the escalation e-mail ${mail.email_message_id} is not an escalation to Eve`,
          );
      }
      const hooksToEve = sends.filter((n) => n.channel === 'webhook' && n.channel_id === escalated.channelId);
      if (hooksToEve.length !== expected)
        failures.push(
          `${what}: ${hooksToEve.length} escalation webhooks to Eve's channel, expected ${expected}`,
        );
      for (const call of hooksToEve)
        if (!eveKeys.has(call.id))
          failures.push(`${what}: the escalation webhook ${call.id} never reached Eve's receiver`);
      const others = sends.filter((n) => !toEve.includes(n) && !hooksToEve.includes(n));
      if (others.length)
        failures.push(`${what}: ${others.length} escalation e-mails or webhooks to someone else than Eve`);
    }
    const strayEscalations = escalationMessages.filter(
      (m) => !incidents.some((n) => n.id === m.incident_id && silent.has(n.instance_id)),
    );
    if (strayEscalations.length)
      failures.push(`${strayEscalations.length} escalation messages for incidents the test did not expect`);
    const eveStrayKeys = [...eveKeys.keys()].filter((key) => !escalationSends.some((n) => n.id === key));
    if (eveStrayKeys.length)
      failures.push(`${eveStrayKeys.length} webhooks to Eve with an unknown Idempotency-Key`);
    log(
      `escalation: ${steps.length} steps told (${SILENT - 1} expected, the acknowledged incident none); ` +
        `${escalationMails} escalation e-mails to Eve received (${escalationMailDuplicates} re-delivered with the same ` +
        `Message-ID); ${eveKeys.size} distinct Idempotency-Keys at Eve's webhook, ` +
        `${[...eveKeys.values()].reduce((sum, n) => sum + n - 1, 0)} re-delivered with the same key`,
    );
    const known = new Set([
      ...mails.map((m) => m.email_message_id),
      ...escalationSends.map((n) => n.email_message_id),
    ]);
    const strays = [...received.keys()].filter((id) => !known.has(id));
    if (strays.length) failures.push(`${strays.length} e-mails with an unknown Message-ID`);
  } catch (error) {
    failures.push(String(error));
  } finally {
    for (const r of replicas) r?.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r?.exited ?? Promise.resolve(null)));
    await smtp.stop();
    for (const hook of hooks) await hook.stop();
    await database.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  for (const failure of failures) console.log(`FAIL ${failure}`);
  console.log(failures.length ? 'chaos: FAILED' : 'chaos: passed');
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
