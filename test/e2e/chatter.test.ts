import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ChatterService } from '../../src/mail/chatter/chatter.service.js';
import { systemContext } from '../../src/common/request-context.js';
import { NotificationDispatcher } from '../../src/mail/notification-dispatcher.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { newPartner, newUser, type NewUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';
import { startSmtp, type SmtpSink } from '../harness/smtp.js';

describe('chatter: messages, followers, tracking and e-mail', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  let admin: Api;
  const clock = new ManualClock(new Date('2025-03-01T09:00:00Z'));
  let alice: NewUser;
  let bob: NewUser;
  let francois: NewUser;
  let asAlice: Api;
  let asBob: Api;
  let asFrancois: Api;

  const dispatch = () => app.get(NotificationDispatcher).dispatchDue();
  const messagesOf = (api: Api, id: number) => api.get(`/api/v1/threads/partner/${id}/messages`);

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({
      databaseUrl: db,
      clock,
      env: { SMTP_URL: smtp.url, MAIL_FROM: 'Vigil <vigil@ops.test>' },
    });
    const anonymous = new Api(app.url);
    admin = await anonymous.login(ADMIN.email, ADMIN.password);
    alice = await newUser(app, { roles: ['manager'], name: 'Alice Manager', email: 'alice@ops.test' });
    bob = await newUser(app, { roles: ['viewer'], name: 'Bob Viewer', email: 'bob@ops.test' });
    francois = await newUser(app, { name: 'François', email: 'francois@ops.test', lang: 'fr' });
    asAlice = await anonymous.login(alice.email, alice.password);
    asBob = await anonymous.login(bob.email, bob.password);
    asFrancois = await anonymous.login(francois.email, francois.password);
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('e-mails followers when someone else comments, in their language, and not the author', async () => {
    const acme = await newPartner(app, { name: 'Acme Hosting', customer: true });
    for (const api of [asAlice, asBob, asFrancois]) {
      assert.equal((await api.post(`/api/v1/threads/partner/${acme.id}/followers`, {})).status, 201);
    }
    const followers = await asBob.get(`/api/v1/threads/partner/${acme.id}/followers`);
    assert.deepEqual(
      followers.body.map((f: { name: string; subtypes: string[] }) => [f.name, f.subtypes]),
      // The customer_report addon's monthly report is a default subtype of customers too.
      [
        ['Alice Manager', ['mail.mt_comment', 'customer_report.mt_monthly_report']],
        ['Bob Viewer', ['mail.mt_comment', 'customer_report.mt_monthly_report']],
        ['François', ['mail.mt_comment', 'customer_report.mt_monthly_report']],
      ],
    );

    const posted = await asBob.post(`/api/v1/threads/partner/${acme.id}/messages`, {
      body: 'The disk is almost full.\nCan we add 50 GB?',
    });
    assert.equal(posted.status, 201);
    assert.equal(posted.body.type, 'comment');
    assert.equal(posted.body.subtype, 'mail.mt_comment');
    assert.equal(posted.body.author.name, 'Bob Viewer');
    assert.deepEqual(
      posted.body.notifications.map((n: { channel: string; state: string }) => `${n.channel}:${n.state}`),
      ['email:pending', 'inbox:sent', 'email:pending', 'inbox:sent'],
    );

    assert.deepEqual(await dispatch(), { sent: 2, retried: 0, failed: 0 });
    assert.equal(smtp.mails.length, 2);
    assert.equal(smtp.to('bob@ops.test').length, 0, 'the author gets no e-mail');

    const [toAlice] = smtp.to('alice@ops.test');
    assert.equal(toAlice.subject, 'Acme Hosting: new message');
    assert.match(toAlice.from, /vigil@ops\.test/);
    assert.match(toAlice.text, /Bob Viewer wrote:/);
    assert.match(toAlice.text, /The disk is almost full\.\nCan we add 50 GB\?/);
    assert.match(toAlice.html, /<br>/);
    assert.match(toAlice.messageId, /^<[0-9a-f-]{36}@vigil>$/);

    const [toFrancois] = smtp.to('francois@ops.test');
    assert.equal(toFrancois.subject, 'Acme Hosting : nouveau message');
    assert.match(toFrancois.text, /Bob Viewer a écrit :/);
    assert.match(toFrancois.text, /Vous recevez cet e-mail parce que vous suivez Acme Hosting\./);
    assert.match(toFrancois.html, /<html lang="fr">/);

    const messages = await messagesOf(asAlice, acme.id);
    assert.equal(messages.body.total, 1);
    assert.deepEqual(
      messages.body.items[0].notifications.map(
        (n: { channel: string; state: string }) => `${n.channel}:${n.state}`,
      ),
      ['email:sent', 'inbox:sent', 'email:sent', 'inbox:sent'],
    );
  });

  it('sends nothing to a follower who unsubscribed from Discussions', async () => {
    const globex = await newPartner(app, { name: 'Globex' });
    await asAlice.post(`/api/v1/threads/partner/${globex.id}/followers`, {});
    const unsubscribed = await asFrancois.post(`/api/v1/threads/partner/${globex.id}/followers`, {
      subtypes: [],
    });
    assert.equal(unsubscribed.status, 201);
    assert.deepEqual(unsubscribed.body.subtypes, []);
    const before = smtp.mails.length;

    await asBob.post(`/api/v1/threads/partner/${globex.id}/messages`, { body: 'Renewal next week' });
    await dispatch();
    const received = smtp.mails.slice(before);
    assert.deepEqual(
      received.map((m) => m.to),
      [['alice@ops.test']],
    );
    const inbox = await asFrancois.get('/api/v1/me/notifications');
    assert.ok(inbox.body.items.every((n: any) => n.message.record_name !== 'Globex'));
  });

  it('never e-mails a note to a partner who is not a user, but does e-mail them comments', async () => {
    const initech = await newPartner(app, { name: 'Initech', is_company: true, customer: true });
    const contact = await newPartner(app, { name: 'Peter Contact', email: 'peter@initech.example' });
    const subtypes = ['mail.mt_comment', 'mail.mt_note'];
    const added = await asAlice.post(`/api/v1/threads/partner/${initech.id}/followers`, {
      partner_id: contact.id,
      subtypes,
    });
    assert.equal(added.status, 201);
    assert.deepEqual(added.body.subtypes, subtypes);
    await asAlice.post(`/api/v1/threads/partner/${initech.id}/followers`, { subtypes });
    const before = smtp.mails.length;

    const note = await admin.post(`/api/v1/threads/partner/${initech.id}/messages`, {
      type: 'note',
      body: 'Customer is late paying',
    });
    assert.equal(note.status, 201);
    assert.equal(note.body.type, 'note');
    assert.equal(note.body.subtype, 'mail.mt_note');
    await dispatch();
    assert.deepEqual(
      smtp.mails.slice(before).map((m) => m.to),
      [['alice@ops.test']],
    );

    await admin.post(`/api/v1/threads/partner/${initech.id}/messages`, { body: 'Your server was upgraded' });
    await dispatch();
    assert.deepEqual(
      smtp.mails
        .slice(before + 1)
        .flatMap((m) => m.to)
        .sort(),
      ['alice@ops.test', 'peter@initech.example'],
    );
  });

  it('tracks a change of account manager and subscribes the new one', async () => {
    const umbrella = await newPartner(app, { name: 'Umbrella', customer: true });
    const first = await asAlice.patch(`/api/v1/partners/${umbrella.id}`, { user_id: alice.id });
    assert.equal(first.status, 200);
    const second = await asAlice.patch(`/api/v1/partners/${umbrella.id}`, {
      user_id: bob.id,
      phone: '+1 555',
    });
    assert.equal(second.status, 200);
    // A change of an untracked field alone logs nothing.
    await asAlice.patch(`/api/v1/partners/${umbrella.id}`, { phone: '+1 556' });

    const messages = await messagesOf(asBob, umbrella.id);
    assert.equal(messages.body.total, 2);
    const [latest, earliest] = messages.body.items;
    assert.equal(latest.subtype, 'mail.mt_note');
    assert.equal(latest.type, 'note');
    assert.equal(latest.author.name, 'Alice Manager');
    assert.deepEqual(latest.tracking, [
      {
        field: 'userId',
        label: 'Account manager',
        old_value: 'Alice Manager',
        new_value: 'Bob Viewer',
        old_text: 'Alice Manager',
        new_text: 'Bob Viewer',
      },
    ]);
    assert.deepEqual(earliest.tracking, [
      {
        field: 'userId',
        label: 'Account manager',
        old_value: null,
        new_value: 'Alice Manager',
        old_text: null,
        new_text: 'Alice Manager',
      },
    ]);
    const french = await asBob
      .withHeaders({ 'accept-language': 'fr' })
      .get(`/api/v1/threads/partner/${umbrella.id}/messages`);
    assert.equal(french.body.items[0].tracking[0].label, 'Gestionnaire de compte');

    const followers = await asBob.get(`/api/v1/threads/partner/${umbrella.id}/followers`);
    assert.deepEqual(
      followers.body.map((f: { partner_id: number }) => f.partner_id).sort(),
      [alice.partner_id, bob.partner_id].sort(),
    );
  });

  it('subscribes the account manager of a new customer', async () => {
    const created = await asAlice.post('/api/v1/partners', { name: 'Hooli', user_id: alice.id });
    const followers = await asBob.get(`/api/v1/threads/partner/${created.body.id}/followers`);
    assert.deepEqual(
      followers.body.map((f: { partner_id: number }) => f.partner_id),
      [alice.partner_id],
    );
  });

  it('checks access: unknown thread, notes, and other people’s subscriptions', async () => {
    const stark = await newPartner(app, { name: 'Stark' });
    const base = `/api/v1/threads/partner/${stark.id}`;
    assert.equal((await asBob.get('/api/v1/threads/nothing.here/1/messages')).status, 404);
    const missing = await asBob.get('/api/v1/threads/partner/999999/followers');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.message, 'No partner with id 999999');
    assert.equal(
      (await asBob.withHeaders({ 'accept-language': 'de' }).get('/api/v1/threads/nothing.here/1/messages'))
        .body.message,
      'Kein Thread-Modell mit dem Namen nothing.here',
    );
    assert.equal((await new Api(app.url).get(`${base}/messages`)).status, 401);

    assert.equal((await asBob.post(`${base}/messages`, { type: 'note', body: 'psst' })).status, 403);
    assert.equal((await asBob.post(`${base}/followers`, { partner_id: alice.partner_id })).status, 403);
    assert.equal((await asBob.post(`${base}/followers`, { subtypes: ['mail.nope'] })).status, 400);
    assert.equal((await asBob.post(`${base}/followers`, {})).status, 201);
    assert.equal((await asAlice.post(`${base}/followers`, { partner_id: francois.partner_id })).status, 201);
    assert.equal((await asBob.delete(`${base}/followers/${francois.partner_id}`)).status, 403);
    assert.equal((await asFrancois.delete(`${base}/followers/${francois.partner_id}`)).status, 204);
    assert.equal((await asAlice.delete(`${base}/followers/${bob.partner_id}`)).status, 204);
    assert.equal((await asAlice.delete(`${base}/followers/${bob.partner_id}`)).status, 404);
    assert.deepEqual((await asBob.get(`${base}/followers`)).body, []);
  });

  it('lists the inbox unread first and marks one or all as read', async () => {
    const wayne = await newPartner(app, { name: 'Wayne Enterprises' });
    await asBob.post(`/api/v1/threads/partner/${wayne.id}/followers`, {});
    const inboxBefore = (await asBob.get('/api/v1/me/notifications')).body;
    for (const body of ['First', 'Second', 'Third']) {
      await asAlice.post(`/api/v1/threads/partner/${wayne.id}/messages`, { body });
      clock.advance(60);
    }
    const inbox = await asBob.get('/api/v1/me/notifications?limit=2');
    assert.equal(inbox.status, 200);
    assert.equal(inbox.body.unread, inboxBefore.unread + 3);
    assert.deepEqual(
      inbox.body.items.map((n: any) => n.message.body),
      ['Third', 'Second'],
    );
    assert.equal(inbox.body.items[0].read, false);
    assert.equal(inbox.body.items[0].message.record_name, 'Wayne Enterprises');

    const third = inbox.body.items[0].id;
    const marked = await asBob.post(`/api/v1/me/notifications/${third}/read`);
    assert.equal(marked.status, 200);
    assert.deepEqual(marked.body, { updated: 1 });
    assert.equal((await asAlice.post(`/api/v1/me/notifications/${third}/read`)).status, 404);

    const after = await asBob.get('/api/v1/me/notifications?limit=200');
    assert.equal(after.body.unread, inboxBefore.unread + 2);
    const last = after.body.items[after.body.items.length - 1];
    assert.equal(last.id, third, 'read notifications come after unread ones');
    assert.equal(last.read, true);
    const unreadOnly = await asBob.get('/api/v1/me/notifications?unread=true');
    assert.ok(unreadOnly.body.items.every((n: any) => !n.read));

    const all = await asBob.post('/api/v1/me/notifications/read-all');
    assert.equal(all.body.updated, inboxBefore.unread + 2);
    assert.equal((await asBob.get('/api/v1/me/notifications')).body.unread, 0);
  });

  it('offers three verbs to code: post notifies, log stays silent, notify reaches partners without a record', async () => {
    const chatter = app.get(ChatterService);
    const soylent = await newPartner(app, { name: 'Soylent' });
    const thread = { model: 'partner', id: soylent.id };
    await chatter.follow(thread, alice.partner_id);
    await dispatch();
    const before = smtp.mails.length;

    await chatter.log(systemContext(), thread, { body: { key: 'mail.subtypes.note' } });
    await chatter.post(systemContext(), thread, {
      subtype: 'mail.mt_comment',
      subject: { key: 'mail.email.subject_record', args: { record: 'Soylent' } },
      body: 'Posted by the system',
    });
    const outsider = await newPartner(app, { name: 'Outsider', email: 'outsider@example.test', lang: 'nl' });
    await chatter.notify(systemContext(), [outsider.id], {
      subject: { key: 'mail.email.subject_default' },
      body: 'Without a record',
    });
    // A tracking change with a subtype is posted to the followers of that subtype.
    await chatter.track(
      systemContext(),
      thread,
      { userId: null },
      { userId: bob.id },
      { subtype: 'mail.mt_comment' },
    );
    await dispatch();

    const received = smtp.mails.slice(before);
    assert.deepEqual(received.map((m) => [m.to[0], m.subject]).sort(), [
      ['alice@ops.test', 'Soylent: new message'],
      ['alice@ops.test', 'Soylent: new message'],
      ['outsider@example.test', 'Een bericht van Vigil'],
    ]);
    const tracked = received.find((m) => m.text.includes('Account manager'));
    assert.match(tracked!.text, /Account manager: \(none\) → Bob Viewer/);
    const messages = await messagesOf(asAlice, soylent.id);
    assert.deepEqual(
      messages.body.items.map((m: any) => [m.type, m.subtype, m.author, m.body, m.notifications.length]),
      [
        ['notification', 'mail.mt_comment', null, '', 2],
        ['notification', 'mail.mt_comment', null, 'Posted by the system', 2],
        ['note', 'mail.mt_note', null, 'Note', 0],
      ],
    );
    const subtypes = await asFrancois.get('/api/v1/subtypes');
    assert.deepEqual(
      // Addons seed their own subtypes too: core's are the `mail.` ones.
      subtypes.body
        .filter((s: any) => s.key.startsWith('mail.'))
        .map((s: any) => [s.key, s.name, s.default, s.internal]),
      [
        ['mail.mt_comment', 'Discussions', true, false],
        ['mail.mt_note', 'Note', false, true],
      ],
    );
    // Bob became responsible through tracking, so he follows now.
    const followers = await asBob.get(`/api/v1/threads/partner/${soylent.id}/followers`);
    assert.ok(followers.body.some((f: any) => f.partner_id === bob.partner_id));
  });

  it('answers validation errors in the language of Accept-Language', async () => {
    const partner = await newPartner(app);
    const result = await asBob
      .withHeaders({ 'accept-language': 'fr' })
      .post(`/api/v1/threads/partner/${partner.id}/messages`, { body: '' });
    assert.equal(result.status, 400);
    assert.equal(result.body.message, 'body ne doit pas être vide');
    const dutch = await asBob
      .withHeaders({ 'accept-language': 'nl' })
      .post(`/api/v1/threads/partner/${partner.id}/messages`, { body: 'x', type: 'shout' });
    assert.equal(dutch.status, 400);
    assert.match(dutch.body.message, /^type /);
    assert.doesNotMatch(dutch.body.message, /must/);
  });
});
