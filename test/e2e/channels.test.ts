import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JwtService } from '@nestjs/jwt';
import { ChatterService } from '../../src/mail/chatter/chatter.service.js';
import { systemContext } from '../../src/common/request-context.js';
import {
  ALLOW_PRIVATE_SETTING,
  BASE_URL_SETTING,
  CHANNEL_FAILURE_LIMIT,
  CHANNEL_RETRY,
} from '../../src/mail/channels/channel-delivery.service.js';
import { MASK } from '../../src/mail/channels/channels.dto.js';
import { NotificationDispatcher } from '../../src/mail/notification-dispatcher.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { SettingsService } from '../../src/settings/settings.service.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { DnsServer } from '../harness/dns.js';
import { newPartner, newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';
import {
  ntfyReceiver,
  pushoverReceiver,
  type Receiver,
  slackReceiver,
  teamsReceiver,
  webhookReceiver,
} from '../harness/receivers.js';
import { startSmtp, type SmtpSink } from '../harness/smtp.js';

const SECRET = 'whsec-test-secret-0123456789';
const PUSHOVER = { token: 'a'.repeat(30), user_key: 'u'.repeat(30) };

describe('alert channels: webhook, Slack, Teams, Pushover, ntfy through the outbox', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let dns: DnsServer;
  const receivers: Receiver[] = [];
  const clock = new ManualClock(new Date('2025-05-01T09:00:00Z'));

  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();
  const receiver = async (make: () => Receiver) => {
    const started = await make().start();
    receivers.push(started);
    return started;
  };

  /** A signed-in user (a token signed like a login's: logins are rate-limited). */
  async function signedIn(roles: ('viewer' | 'manager')[] = ['viewer'], lang?: string) {
    const user = await newUser(app, { roles, lang });
    const token = await app
      .get(JwtService)
      .signAsync({ sub: user.id, ver: 0, typ: 'api' }, { expiresIn: 3600 });
    return { user, api: new Api(app.url, token) };
  }

  /** A customer record followed by the given partners; `post` comments on it as the system. */
  async function followedRecord(...partnerIds: number[]) {
    const record = await newPartner(app, { name: `Customer ${Math.random().toString(36).slice(2, 7)}` });
    for (const id of partnerIds)
      await app.get(ChatterService).follow({ model: 'partner', id: record.id }, id);
    const post = (body: string) =>
      app
        .get(ChatterService)
        .post(systemContext(), { model: 'partner', id: record.id }, { subtype: 'mail.mt_comment', body });
    return { record, post };
  }

  async function subscribe(
    api: Api,
    kind: string,
    settings: Record<string, string>,
    path = '/api/v1/me/channels',
  ) {
    const created = await api.post(path, { kind, name: `My ${kind}`, settings });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: number; settings: Record<string, string> };
  }

  async function notificationsOf(messageId: number) {
    return query<{
      channel: string;
      channel_id: number | null;
      state: string;
      attempts: number;
      last_error: string;
    }>(
      db,
      `SELECT channel, channel_id, state, attempts, last_error FROM mail_notification WHERE message_id = $1
       ORDER BY channel, channel_id`,
      [messageId],
    );
  }

  before(async () => {
    smtp = await startSmtp();
    dns = await new DnsServer().start();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, CHANNEL_DNS_SERVERS: dns.address },
    });
    // The receivers live on 127.0.0.1.
    await app.get(SettingsService).set(ALLOW_PRIVATE_SETTING, '1');
    await app.get(SettingsService).set(BASE_URL_SETTING, 'https://vigil.example.com/');
  });

  after(async () => {
    await app?.close();
    for (const r of receivers) await r.stop();
    await dns?.stop();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('reaches each subscriber once per channel, in each service’s format, with a verified signature', async () => {
    const { user, api } = await signedIn();
    const { api: manager } = await signedIn(['manager']);
    const contact = await newPartner(app, { name: 'Customer contact', email: 'contact@customer.test' });
    const [hook, slack, teams, pushover, ntfy, contactHook] = [
      await receiver(() => webhookReceiver(SECRET)),
      await receiver(slackReceiver),
      await receiver(teamsReceiver),
      await receiver(pushoverReceiver),
      await receiver(ntfyReceiver),
      await receiver(() => webhookReceiver(SECRET)),
    ];
    await subscribe(api, 'webhook', { url: `${hook.url}/hooks/vigil`, secret: SECRET });
    await subscribe(api, 'slack', { url: `${slack.url}/services/T0/B0/xyz` });
    await subscribe(api, 'teams', { url: `${teams.url}/workflows/abc` });
    await subscribe(api, 'pushover', { ...PUSHOVER, api_url: `${pushover.url}/1/messages.json` });
    await subscribe(api, 'ntfy', { server: ntfy.url, topic: 'vigil-alerts' });
    // A manager configures the customer's contact, who has no account.
    await subscribe(
      manager,
      'webhook',
      { url: contactHook.url, secret: SECRET },
      `/api/v1/partners/${contact.id}/channels`,
    );

    const { record, post } = await followedRecord(user.partner_id, contact.id);
    const mailsBefore = smtp.mails.length;
    const { id: messageId } = await post('The instance is down');

    assert.deepEqual(await dispatch(), { sent: 8, retried: 0, failed: 0 }, '6 channels and 2 e-mails');
    for (const r of [hook, slack, teams, pushover, ntfy, contactHook]) {
      assert.equal(r.requests.length, 1, `one request to ${r.url}`);
      assert.equal(r.accepted.length, 1, `accepted by ${r.url}: ${r.requests[0]?.body}`);
    }
    assert.equal(smtp.mails.length, mailsBefore + 2);
    assert.deepEqual(await dispatch(), { sent: 0, retried: 0, failed: 0 });
    clock.advance(3600);
    assert.deepEqual(await dispatch(), { sent: 0, retried: 0, failed: 0 }, 'nothing is sent twice');

    const [delivered] = hook.requests;
    const rows = await notificationsOf(messageId);
    assert.equal(rows.filter((r) => r.state === 'sent').length, rows.length);
    const ids = await query<{ id: string }>(
      db,
      "SELECT id FROM mail_notification WHERE message_id = $1 AND channel = 'webhook'",
      [messageId],
    );
    assert.ok(
      ids.some((r) => r.id === delivered.headers['idempotency-key']),
      'the key is the notification id',
    );
    assert.notEqual(delivered.headers['idempotency-key'], contactHook.requests[0].headers['idempotency-key']);
    assert.deepEqual(
      { ...delivered.json, id: undefined, created_at: undefined },
      {
        id: undefined,
        created_at: undefined,
        type: 'message',
        subject: `${record.name}: new message`,
        body: 'The instance is down',
        author: null,
        subtype: 'mail.mt_comment',
        record: { model: 'partner', id: record.id, name: record.name },
        // The record's web page: a person opens it (the API thread only for models without one).
        link: `https://vigil.example.com/web/customers/${record.id}`,
        tracking: [],
        // Links to act on the message (an incident's acknowledge link); a plain message has none.
        actions: [],
      },
    );
    assert.match(slack.requests[0].json.text, /The instance is down/);
    assert.equal(pushover.requests[0].json.message, 'The instance is down');
    assert.equal(ntfy.requests[0].json.topic, 'vigil-alerts');

    // The message shows every channel's notification.
    const thread = await api.get(`/api/v1/threads/partner/${record.id}/messages`);
    const channels = thread.body.items[0].notifications.map((n: any) => n.channel).sort();
    assert.deepEqual(channels, [
      'email',
      'email',
      'inbox',
      'ntfy',
      'pushover',
      'slack',
      'teams',
      'webhook',
      'webhook',
    ]);
  });

  it('retries a 503 after its Retry-After, with the same Idempotency-Key', async () => {
    const { user, api } = await signedIn();
    const hook = await receiver(() => webhookReceiver(SECRET));
    hook.script.push({ status: 503, headers: { 'retry-after': '120' }, body: 'busy' });
    await subscribe(api, 'webhook', { url: hook.url, secret: SECRET });
    const { post } = await followedRecord(user.partner_id);
    const { id } = await post('Flapping');
    await dispatch();
    assert.equal(hook.requests.length, 1);
    const [row] = (await notificationsOf(id)).filter((n) => n.channel === 'webhook');
    assert.deepEqual([row.state, row.attempts, row.last_error], ['pending', 1, 'HTTP 503: busy']);

    clock.advance(CHANNEL_RETRY.backoffSeconds + 1);
    await dispatch();
    assert.equal(hook.requests.length, 1, 'Retry-After (120 s) wins over the 30 s backoff');
    clock.advance(120 - CHANNEL_RETRY.backoffSeconds);
    await dispatch();
    assert.equal(hook.requests.length, 2);
    assert.deepEqual(
      hook.requests.map((r) => r.status),
      [503, 204],
    );
    assert.equal(hook.requests[0].headers['idempotency-key'], hook.requests[1].headers['idempotency-key']);
    const [sent] = (await notificationsOf(id)).filter((n) => n.channel === 'webhook');
    assert.deepEqual([sent.state, sent.attempts, sent.last_error], ['sent', 2, null]);
  });

  it('fails a 400 at once and shows the error on the message', async () => {
    const { user, api } = await signedIn();
    const slack = await receiver(slackReceiver);
    slack.script.push({ status: 400, body: 'invalid_token' });
    await subscribe(api, 'slack', { url: slack.url });
    const { record, post } = await followedRecord(user.partner_id);
    await post('Nobody on Slack will read this');
    const result = await dispatch();
    assert.equal(result.failed, 1);
    clock.advance(24 * 3600);
    await dispatch();
    assert.equal(slack.requests.length, 1, 'not retried');
    const thread = await api.get(`/api/v1/threads/partner/${record.id}/messages`);
    const [failed] = thread.body.items[0].notifications.filter((n: any) => n.channel === 'slack');
    assert.deepEqual(
      { state: failed.state, attempts: failed.attempts, error: failed.error },
      { state: 'failed', attempts: 1, error: 'HTTP 400: invalid_token' },
    );
  });

  it(`disables a channel that fails ${CHANNEL_FAILURE_LIMIT} notifications in a row and tells its owner`, async () => {
    const { user, api } = await signedIn(['viewer'], 'fr');
    const ntfy = await receiver(ntfyReceiver);
    const channel = await subscribe(api, 'ntfy', { server: ntfy.url, topic: 'gone' });
    await ntfy.stop(); // down for good
    const { post } = await followedRecord(user.partner_id);
    for (let i = 0; i < CHANNEL_FAILURE_LIMIT; i++) await post(`Alert ${i}`);
    const mailsBefore = smtp.mails.length;

    let failed = 0;
    for (let round = 0; round < CHANNEL_RETRY.maxAttempts; round++) {
      failed += (await dispatch()).failed;
      clock.advance(CHANNEL_RETRY.backoffSeconds * 2 ** round + 1);
    }
    assert.equal(failed, CHANNEL_FAILURE_LIMIT, 'each notification failed after its last try');
    const [shown] = (await api.get('/api/v1/me/channels')).body;
    assert.equal(shown.active, false);
    assert.equal(shown.consecutive_failures, CHANNEL_FAILURE_LIMIT);
    assert.match(shown.last_error, /ECONNREFUSED/);

    // Told by e-mail and in the inbox, in French.
    await dispatch();
    const told = smtp.mails.slice(mailsBefore).filter((m) => m.to.includes(user.email));
    assert.equal(told.length, 1 + CHANNEL_FAILURE_LIMIT, 'the alerts by e-mail, then the notice');
    assert.equal(told.at(-1)!.subject, 'Canal d’alerte « My ntfy » désactivé');
    const inbox = await api.get('/api/v1/me/notifications');
    assert.match(inbox.body.items[0].message.body, /n’a pu remettre 3 notifications d’affilée/);

    // A disabled channel gets nothing more; enabled again, it works once its receiver is back.
    const { id } = await post('After the disable');
    assert.equal((await notificationsOf(id)).filter((n) => n.channel === 'ntfy').length, 0);
    await ntfy.start();
    const enabled = await api.patch(`/api/v1/me/channels/${channel.id}`, { active: true });
    assert.deepEqual([enabled.body.active, enabled.body.consecutive_failures], [true, 0]);
    const { id: again } = await post('Back');
    assert.equal((await dispatch()).sent >= 1, true);
    assert.deepEqual(
      (await notificationsOf(again)).filter((n) => n.channel === 'ntfy').map((n) => n.state),
      ['sent'],
    );
    assert.equal(ntfy.accepted.length, 1);
  });

  it('refuses URLs that point at metadata, link-local or (unless allowed) private addresses, also after DNS', async () => {
    const { api } = await signedIn();
    dns.records.set('metadata.vigil.test', '169.254.169.254');
    dns.records.set('intranet.vigil.test', '10.1.2.3');
    const refused = async (url: string, reason: RegExp) => {
      const answer = await api.post('/api/v1/me/channels', {
        kind: 'webhook',
        name: 'x',
        settings: { url, secret: SECRET },
      });
      assert.equal(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.message, reason, url);
    };
    await refused('http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is a link-local, metadata/);
    await refused(
      'http://metadata.vigil.test/latest/meta-data/',
      /metadata\.vigil\.test: 169\.254\.169\.254 is a link-local/,
    );
    await refused('http://[::ffff:169.254.169.254]/', /link-local/);
    await refused('ftp://example.com/hook', /ftp: URLs are not allowed/);
    await refused('http://nowhere.vigil.test/', /does not resolve/);
    await app.get(SettingsService).set(ALLOW_PRIVATE_SETTING, '0');
    try {
      await refused('http://127.0.0.1:9/', /private or loopback/);
      await refused('http://intranet.vigil.test/', /10\.1\.2\.3 is a private/);
    } finally {
      await app.get(SettingsService).set(ALLOW_PRIVATE_SETTING, '1');
    }
  });

  it('checks the address again at send time: a name that now resolves to the metadata service is refused', async () => {
    const { user, api } = await signedIn();
    const hook = await receiver(() => webhookReceiver(SECRET));
    dns.records.set('rebind.vigil.test', '127.0.0.1');
    await subscribe(api, 'webhook', { url: `http://rebind.vigil.test:${hook.port}/`, secret: SECRET });
    dns.records.set('rebind.vigil.test', '169.254.169.254');
    const { post } = await followedRecord(user.partner_id);
    const { id } = await post('Rebinding');
    await dispatch();
    const [row] = (await notificationsOf(id)).filter((n) => n.channel === 'webhook');
    assert.equal(row.state, 'failed', 'refused for good, not retried');
    assert.match(row.last_error, /169\.254\.169\.254 is a link-local, metadata/);
    assert.equal(hook.requests.length, 0);
  });

  it('never returns secrets, keeps them when a form sends the mask back, and sends a test on demand', async () => {
    const { api } = await signedIn();
    const hook = await receiver(() => webhookReceiver(SECRET));
    const created = await subscribe(api, 'webhook', { url: hook.url, secret: SECRET });
    assert.deepEqual(created.settings, { url: hook.url, secret: MASK });
    const pushover = await receiver(pushoverReceiver);
    const push = await subscribe(api, 'pushover', { ...PUSHOVER, api_url: pushover.url });
    const listed = (await api.get('/api/v1/me/channels')).body;
    assert.ok(!JSON.stringify(listed).includes(SECRET) && !JSON.stringify(listed).includes(PUSHOVER.token));
    assert.deepEqual(listed.find((c: any) => c.id === push.id).settings.user_key, MASK);

    const renamed = await api.patch(`/api/v1/me/channels/${created.id}`, {
      name: 'Renamed',
      settings: { url: hook.url, secret: MASK },
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    const tested = await api.post(`/api/v1/me/channels/${created.id}/test`);
    assert.deepEqual(tested.body, { delivered: true, status: 204, error: null }, 'the secret is unchanged');
    assert.equal(hook.requests[0].json.type, 'test');

    const wrong = await api.patch(`/api/v1/me/channels/${created.id}`, {
      settings: { secret: 'another-secret-of-length' },
    });
    assert.equal(wrong.status, 200);
    const refused = await api.post(`/api/v1/me/channels/${created.id}/test`);
    assert.deepEqual(refused.body.delivered, false);
    assert.match(refused.body.error, /HTTP 401/);

    const unknown = await api.post('/api/v1/me/channels', {
      kind: 'carrier_pigeon',
      name: 'x',
      settings: {},
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.message, /Unknown channel kind "carrier_pigeon"/);
  });

  it('asks for the secrets again when an address changes, so a stored token never reaches a new host', async () => {
    const { api } = await signedIn();
    const { api: manager } = await signedIn(['manager']);
    const contact = await newPartner(app, { name: 'Contact with a phone' });
    const pushover = await receiver(pushoverReceiver);
    const attacker = await receiver(pushoverReceiver);
    const ntfy = await receiver(ntfyReceiver);
    const elsewhere = await receiver(ntfyReceiver);
    const path = `/api/v1/partners/${contact.id}/channels`;
    const push = await subscribe(manager, 'pushover', { ...PUSHOVER, api_url: pushover.url }, path);
    const moved = await manager.patch(`${path}/${push.id}`, {
      settings: { api_url: attacker.url, token: MASK, user_key: MASK },
    });
    assert.equal(moved.status, 400, JSON.stringify(moved.body));
    assert.match(moved.body.message, /The setting api_url changed: send token again/);
    // Leaving the secrets out is the same as sending the mask back.
    const omitted = await manager.patch(`${path}/${push.id}`, { settings: { api_url: attacker.url } });
    assert.equal(omitted.status, 400);
    const french = await manager
      .withHeaders({ 'accept-language': 'fr' })
      .patch(`${path}/${push.id}`, { settings: { api_url: attacker.url, token: 'b'.repeat(30) } });
    assert.match(french.body.message, /Le paramètre api_url a changé : renvoyez user_key/);
    assert.equal((await manager.post(`${path}/${push.id}/test`)).body.delivered, true);
    assert.equal(attacker.requests.length, 0, 'the stored token went nowhere new');
    assert.equal(pushover.requests[0].json.token, PUSHOVER.token);
    // With the secrets typed again, the move is allowed.
    const retyped = await manager.patch(`${path}/${push.id}`, {
      settings: { api_url: attacker.url, token: 'c'.repeat(30), user_key: 'd'.repeat(30) },
    });
    assert.equal(retyped.status, 200, JSON.stringify(retyped.body));

    // ntfy: the optional token too; a channel without a stored token moves freely.
    const withToken = await subscribe(api, 'ntfy', { server: ntfy.url, topic: 't', token: 'tk_secret' });
    const ntfyMoved = await api.patch(`/api/v1/me/channels/${withToken.id}`, {
      settings: { server: elsewhere.url },
    });
    assert.equal(ntfyMoved.status, 400);
    assert.match(ntfyMoved.body.message, /The setting server changed: send token again/);
    const noToken = await subscribe(api, 'ntfy', { server: ntfy.url, topic: 't' });
    assert.equal(
      (await api.patch(`/api/v1/me/channels/${noToken.id}`, { settings: { server: elsewhere.url } })).status,
      200,
    );
    assert.equal(elsewhere.requests.length, 0);
  });

  it('"test" tells the status, never what the receiver wrote back', async () => {
    const { user, api } = await signedIn();
    const slack = await receiver(slackReceiver);
    const channel = await subscribe(api, 'slack', { url: slack.url });
    slack.script.push({ status: 403, body: 'internal page: root password is hunter2' });
    const tested = await api.post(`/api/v1/me/channels/${channel.id}/test`);
    assert.deepEqual(tested.body, { delivered: false, status: 403, error: 'HTTP 403' });
    // The owner still reads the receiver's reason on a failed alert of their own.
    slack.script.push({ status: 400, body: 'invalid_token' });
    const { record, post } = await followedRecord(user.partner_id);
    await post('Alert');
    await dispatch();
    const thread = await api.get(`/api/v1/threads/partner/${record.id}/messages`);
    const [failed] = thread.body.items[0].notifications.filter((n: any) => n.channel === 'slack');
    assert.equal(failed.error, 'HTTP 400: invalid_token');
  });

  it('lets managers configure contacts, not users, and users only their own channels', async () => {
    const { user, api } = await signedIn();
    const { api: manager } = await signedIn(['manager']);
    const hook = await receiver(() => webhookReceiver(SECRET));
    const mine = await subscribe(api, 'webhook', { url: hook.url, secret: SECRET });
    const forUser = await manager.post(`/api/v1/partners/${user.partner_id}/channels`, {
      kind: 'webhook',
      name: 'x',
      settings: { url: hook.url, secret: SECRET },
    });
    assert.equal(forUser.status, 400);
    const { api: other } = await signedIn();
    assert.equal((await other.delete(`/api/v1/me/channels/${mine.id}`)).status, 404);
    assert.equal((await api.delete(`/api/v1/me/channels/${mine.id}`)).status, 204);
    assert.deepEqual((await api.get('/api/v1/me/channels')).body, []);
    const kinds = (await api.get('/api/v1/channel_kinds')).body.map((k: any) => k.kind);
    assert.deepEqual(kinds, ['webhook', 'slack', 'teams', 'pushover', 'ntfy']);
  });
});
