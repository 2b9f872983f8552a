import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { ChatterService } from '../../src/mail/chatter/chatter.service.js';
import { systemContext } from '../../src/common/request-context.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/database/embedded-database.js';
import { DISPATCH_WORKERS, NotificationDispatcher } from '../../src/mail/notification-dispatcher.js';
import { ManualClock } from '../../src/scheduler/clock.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { newPartner, newUser } from '../harness/factories.js';
import { startSmtp, type SmtpSink } from '../harness/smtp.js';
import { waitFor } from '../harness/wait.js';

const DISPATCH_SECONDS = 5;

/** A partner followed by `followers` users, and `messages` comments posted on it: followers × messages e-mails. */
async function pendingEmails(app: TestApp, followers: number, messages: number): Promise<void> {
  const partner = await newPartner(app);
  for (let i = 0; i < followers; i++) {
    const user = await newUser(app);
    await app.get(ChatterService).follow({ model: 'partner', id: partner.id }, user.partner_id);
  }
  for (let i = 0; i < messages; i++) {
    await app
      .get(ChatterService)
      .post(
        systemContext(),
        { model: 'partner', id: partner.id },
        { subtype: 'mail.mt_comment', body: `#${i}` },
      );
  }
}

describe('notifications: a slow SMTP server', () => {
  let db: string;
  let first: TestApp;
  let second: TestApp;
  let smtp: SmtpSink;
  const clock = new ManualClock(new Date('2025-03-02T09:00:00Z'));

  before(async () => {
    smtp = await startSmtp();
    db = await cloneTemplate();
    first = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
    second = await startTestApp({ databaseUrl: db, clock, env: { SMTP_URL: smtp.url } });
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('never sends a Message-ID twice while a send outlasts any lease', async () => {
    await pendingEmails(first, 1, 1);
    let answer!: () => void;
    const stalled = new Promise<void>((resolve) => (answer = resolve));
    smtp.beforeReply = () => stalled;

    const sending = first.get(NotificationDispatcher).dispatchDue();
    await smtp.waitUntil(() => smtp.mails.length === 1, 'the first dispatcher to send');
    // An hour passes (the old lease was five minutes) while the SMTP server has not answered.
    clock.advance(3600);
    assert.deepEqual(await second.get(NotificationDispatcher).dispatchDue(), {
      sent: 0,
      retried: 0,
      failed: 0,
    });
    answer();
    assert.deepEqual(await sending, { sent: 1, retried: 0, failed: 0 });
    assert.equal(smtp.mails.length, 1);
    assert.deepEqual(await second.get(NotificationDispatcher).dispatchDue(), {
      sent: 0,
      retried: 0,
      failed: 0,
    });
    assert.equal(smtp.mails.length, 1);
  });
});

describe('notifications: the database restarts while alert e-mails are being sent', () => {
  let dataDir: string;
  let database: EmbeddedDatabase | undefined;
  let app: TestApp | undefined;
  let smtp: SmtpSink;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-outage-'));
    database = await startEmbeddedDatabase({ dataDir, database: 'vigil_outage' });
    smtp = await startSmtp();
  });

  after(async () => {
    await app?.close().catch(() => undefined);
    await database?.stop();
    await smtp?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sends every e-mail within 30 s of the database’s return, re-sends only with the same Message-ID', async () => {
    const url = database!.url;
    const port = database!.port;
    // The application's error lines: the scheduler says when a dispatch could not reach the database.
    const errors: { time: number; context?: string; msg: string }[] = [];
    const logDestination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const text of chunk.toString().split('\n').filter(Boolean))
          errors.push(JSON.parse(text) as { time: number; context?: string; msg: string });
        done();
      },
    });
    app = await startTestApp({
      databaseUrl: url,
      env: { SMTP_URL: smtp.url, LOG_LEVEL: 'error' },
      scheduler: true,
      logDestination,
    });
    // A server that takes a moment per mail, so that the database goes away in the middle of the batch.
    smtp.beforeReply = () => delay(100);
    await pendingEmails(app, 10, 3);
    const expected = new Set(
      (
        await query<{ email_message_id: string }>(
          url,
          "SELECT email_message_id FROM mail_notification WHERE channel = 'email'",
        )
      ).map((r) => r.email_message_id),
    );
    assert.equal(expected.size, 30);

    // The scheduler's dispatcher starts sending; the database crashes after the first few e-mails.
    await smtp.waitUntil(() => smtp.mails.length >= 5, 'the dispatcher to start sending');
    await database!.stop({ immediate: true });
    database = undefined;
    const sentBeforeCrash = new Set(smtp.mails.map((m) => m.messageId)).size;
    const crashed = Date.now();
    // The outage lasts until a later dispatch (one every 5 s) has found no database and said so: the application
    // went on running its tasks against a database that was gone.
    await waitFor(
      () =>
        errors.some((e) => e.context === 'SchedulerService' && e.time > crashed + DISPATCH_SECONDS * 1000),
      {
        what: 'a scheduled dispatch to fail for want of the database',
      },
    );
    database = await startEmbeddedDatabase({ dataDir, database: 'vigil_outage', port });

    // Every e-mail is delivered and recorded within 30 s of the return, without restarting the application.
    const returned = Date.now();
    const sentRows = async () =>
      (
        await query<{ n: number }>(
          url,
          "SELECT count(*)::int AS n FROM mail_notification WHERE channel = 'email' AND state = 'sent'",
        )
      )[0].n;
    while ((await sentRows()) < 30) {
      assert.ok(
        Date.now() - returned < 30_000,
        `only ${await sentRows()} of 30 e-mails sent 30 s after the return`,
      );
      await delay(250);
    }
    assert.ok(sentBeforeCrash < 30, 'the crash happened in the middle of the batch');
    const distinct = new Set(smtp.mails.map((m) => m.messageId));
    assert.deepEqual([...distinct].sort(), [...expected].sort());
    // A re-send happens only for an e-mail whose acceptance could not be recorded (in flight at the crash), and
    // carries the same Message-ID.
    const resent = smtp.mails.length - 30;
    assert.ok(resent <= DISPATCH_WORKERS, `${resent} e-mails were sent twice`);
    console.log(
      `database outage: ${sentBeforeCrash} e-mails before the crash, all 30 sent ${Date.now() - returned} ms ` +
        `after the return, ${resent} re-sent with the same Message-ID`,
    );

    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    const observed = Number(/^vigil_notification_delivery_seconds_count (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(observed >= 30, `vigil_notification_delivery_seconds_count is ${observed}`);
  });
});
