import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BACKOFF_SECONDS,
  MAX_ATTEMPTS,
  NotificationDispatcher,
} from '../../src/mail/notification-dispatcher.js';
import { ChatterService } from '../../src/mail/chatter/chatter.service.js';
import { TemplateRenderer } from '../../src/mail/email/template-renderer.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { SchedulerService } from '../../src/scheduler/scheduler.service.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { newPartner, newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';
import { startSmtp, type SmtpSink } from '../harness/smtp.js';

describe('notifications: reliable e-mail delivery', () => {
  let app: TestApp;
  let db: string;
  let smtp: SmtpSink;
  /** Logged in once: logins are rate-limited. */
  let author: Api;
  const clock = new ManualClock(new Date('2025-03-01T09:00:00Z'));

  const dispatch = (on: TestApp = app) => on.get(NotificationDispatcher).dispatchDue();

  /** A partner followed by `count` users; returns an API for someone else who comments on it. */
  async function threadWithFollowers(count: number) {
    const partner = await newPartner(app, { name: `Customer ${Math.random().toString(36).slice(2, 7)}` });
    // Followers subscribe through the service: logging each in would hit the login rate limit.
    for (let i = 0; i < count; i++) {
      const user = await newUser(app);
      await app.get(ChatterService).follow({ model: 'partner', id: partner.id }, user.partner_id);
    }
    const api = author;
    return {
      partner,
      api,
      comment: (body: string) => api.post(`/api/v1/threads/partner/${partner.id}/messages`, { body }),
    };
  }

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    const user = await newUser(app);
    author = await new Api(app.url).login(user.email, user.password);
  });

  after(async () => {
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('keeps notifications pending while the SMTP server is down and delivers them once it is back', async () => {
    const { api, partner, comment } = await threadWithFollowers(1);
    await smtp.stop();
    const before = smtp.mails.length;
    await comment('Are you there?');

    assert.deepEqual(await dispatch(), { sent: 0, retried: 1, failed: 0 });
    const messages = await api.get(`/api/v1/threads/partner/${partner.id}/messages`);
    const [email] = messages.body.items[0].notifications.filter((n: any) => n.channel === 'email');
    assert.equal(email.state, 'pending');
    assert.equal(email.attempts, 1);
    assert.match(email.error, /ECONNREFUSED/);

    await smtp.start();
    assert.deepEqual(await dispatch(), { sent: 0, retried: 0, failed: 0 }, 'waits for the backoff');
    clock.advance(BACKOFF_SECONDS + 1);
    assert.deepEqual(await dispatch(), { sent: 1, retried: 0, failed: 0 });
    assert.equal(smtp.mails.length, before + 1);

    const [row] = await query<{
      state: string;
      attempts: number;
      email_message_id: string;
      last_error: null;
    }>(
      db,
      `SELECT n.state, n.attempts, n.email_message_id, n.last_error FROM mail_notification n
       JOIN mail_message m ON m.id = n.message_id WHERE m.res_id = $1 AND n.channel = 'email'`,
      [partner.id],
    );
    assert.deepEqual(row, {
      state: 'sent',
      attempts: 2,
      email_message_id: smtp.mails[before].messageId,
      last_error: null,
    });
  });

  it('marks a notification failed, with the error, after the last try', async () => {
    const { api, partner, comment } = await threadWithFollowers(1);
    await smtp.stop();
    try {
      await comment('Nobody will read this');
      const results = [];
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        results.push(await dispatch());
        clock.advance(BACKOFF_SECONDS * 2 ** attempt);
      }
      assert.deepEqual(results.at(-2), { sent: 0, retried: 1, failed: 0 });
      assert.deepEqual(results.at(-1), { sent: 0, retried: 0, failed: 1 });
      assert.deepEqual(await dispatch(), { sent: 0, retried: 0, failed: 0 }, 'a failed row is not retried');
    } finally {
      await smtp.start();
    }
    const messages = await api.get(`/api/v1/threads/partner/${partner.id}/messages`);
    const [email] = messages.body.items[0].notifications.filter((n: any) => n.channel === 'email');
    assert.equal(email.state, 'failed');
    assert.equal(email.attempts, MAX_ATTEMPTS);
    assert.match(email.error, /ECONNREFUSED/);
  });

  it('sends nothing a live sender holds, and what a sender that died mid-send held once its lease passed, with the same Message-ID', async () => {
    const { comment } = await threadWithFollowers(1);
    await comment('Crash test');
    // Another dispatcher has claimed the row (a lease on the database's clock) and is sending it.
    const [held] = await query<{ id: string; email_message_id: string }>(
      db,
      `UPDATE mail_notification SET attempts = attempts + 1, claimed_by = 'elsewhere:1:dead',
         claimed_until = now() + interval '2 minutes'
       WHERE state = 'pending' AND channel = 'email' RETURNING id, email_message_id`,
    );
    assert.ok(held);
    const before = smtp.mails.length;
    // However far the application's clock moves, the claim holds while the database's clock is within its lease.
    clock.advance(3600);
    assert.deepEqual(await dispatch(), { sent: 0, retried: 0, failed: 0 }, 'the claim holds');

    // The sender died: its lease passes on the database's clock, and the row is taken over.
    await query(
      db,
      "UPDATE mail_notification SET claimed_until = now() - interval '1 second' WHERE id = $1",
      [held.id],
    );
    assert.deepEqual(await dispatch(), { sent: 1, retried: 0, failed: 0 });
    assert.equal(smtp.mails.length, before + 1);
    assert.equal(smtp.mails[before].messageId, held.email_message_id);
    const [row] = await query<{ attempts: number; claimed_by: string | null }>(
      db,
      'SELECT attempts, claimed_by FROM mail_notification WHERE id = $1',
      [held.id],
    );
    assert.deepEqual(row, { attempts: 2, claimed_by: null });
  });

  it('delivers each notification exactly once with two dispatchers running at once', async () => {
    const second = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    try {
      const { comment } = await threadWithFollowers(8);
      for (let i = 0; i < 5; i++) await comment(`Message ${i}`);
      const before = smtp.mails.length;

      // One delivery at a time per call, four calls on two apps competing for the same rows.
      const oneByOne = (on: TestApp) => on.get(NotificationDispatcher).dispatchDue({ workers: 1 });
      const results = await Promise.all([oneByOne(app), oneByOne(second), oneByOne(app), oneByOne(second)]);
      assert.equal(
        results.reduce((sum, r) => sum + r.sent, 0),
        40,
      );
      assert.ok(results[0].sent + results[2].sent > 0, 'the first app sent some');
      assert.ok(results[1].sent + results[3].sent > 0, 'the second app sent some');
      const received = smtp.mails.slice(before);
      assert.equal(received.length, 40);
      assert.equal(new Set(received.map((m) => m.messageId)).size, 40);
      assert.deepEqual(await Promise.all([dispatch(app), dispatch(second)]), [
        { sent: 0, retried: 0, failed: 0 },
        { sent: 0, retried: 0, failed: 0 },
      ]);
    } finally {
      await second.close();
    }
  });

  it('runs the dispatcher as core’s scheduled task', async () => {
    const { comment } = await threadWithFollowers(2);
    await comment('Via the scheduler');
    const before = smtp.mails.length;
    clock.advance(10);
    assert.equal(await app.get(SchedulerService).runDue('mail.dispatch'), true);
    assert.equal(smtp.mails.length, before + 2);
    const metrics = await new Api(app.url).get('/metrics');
    assert.match(metrics.body, /vigil_notifications_total\{result="sent"\} \d+/);
    assert.match(metrics.body, /vigil_notifications_pending 0/);
  });

  it('renders an addon’s template with the t helper and language variants', () => {
    const renderer = app.get(TemplateRenderer);
    assert.equal(renderer.render('test_addon/greeting', 'en', { name: 'Zoé' }).trim(), '<p>Hello Zoé!</p>');
    assert.equal(
      renderer.render('test_addon/greeting', 'fr', { name: 'Zoé' }).trim(),
      '<p>Bonjour Zoé !</p>',
    );
    assert.equal(
      renderer.render('test_addon/greeting', 'nl', { name: '<b>' }).trim(),
      '<p lang="nl">Hallo &lt;b&gt;! (nl)</p>',
    );
    const email = renderer.renderEmail('test_addon/greeting', 'de', { subject: 'Hi', name: 'Jo' });
    assert.match(email.html, /<html lang="de">[\s\S]*<p>Hallo Jo!<\/p>[\s\S]*Von Vigil gesendet/);
    assert.equal(email.text, 'Hallo Jo!');
  });
});

describe('notifications without SMTP_URL', () => {
  it('creates inbox rows only', async () => {
    const db = await cloneTemplate();
    const app = await startTestApp({ databaseUrl: db });
    try {
      const partner = await newPartner(app, { name: 'No mail' });
      const anonymous = new Api(app.url);
      const follower = await newUser(app);
      const author = await newUser(app);
      await (
        await anonymous.login(follower.email, follower.password)
      ).post(`/api/v1/threads/partner/${partner.id}/followers`, {});
      const posted = await (
        await anonymous.login(author.email, author.password)
      ).post(`/api/v1/threads/partner/${partner.id}/messages`, { body: 'Hello' });
      assert.deepEqual(
        posted.body.notifications.map((n: any) => n.channel),
        ['inbox'],
      );
      assert.deepEqual(await app.get(NotificationDispatcher).dispatchDue(), {
        sent: 0,
        retried: 0,
        failed: 0,
      });
    } finally {
      await app.close();
      await dropDatabase(db);
    }
  });
});
