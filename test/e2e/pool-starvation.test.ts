import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PROBE_SETTINGS } from '../../modules/dead_mans_switch_probes/probe-settings.js';
import { ProbesService } from '../../modules/dead_mans_switch_probes/probes.service.js';
import {
  activeInstance,
  jsonRpc,
  newUuid,
  postAlive,
} from '../../modules/dead_mans_switch_server/tests/helpers.js';
import { systemContext } from '../../src/common/request-context.js';
import { ChatterService } from '../../src/mail/chatter/chatter.service.js';
import { DISPATCH_WORKERS, NotificationDispatcher } from '../../src/mail/notification-dispatcher.js';
import { SettingsService } from '../../src/settings/settings.service.js';
import { ADMIN, startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase, query } from '../harness/database.js';
import { newPartner, newUser } from '../harness/factories.js';
import { Api } from '../harness/http.js';
import { startSmtp, type SmtpSink } from '../harness/smtp.js';
import { waitFor } from '../harness/wait.js';

/** Probes one runner pass runs side by side (ProbesService's PROBE_WORKERS). */
const PROBE_WORKERS = 4;

/** A TCP server that accepts connections and never says a word: an instance that hangs. */
class StallingServer {
  readonly sockets = new Set<Socket>();
  private server?: Server;
  port = 0;

  async start(): Promise<this> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('pool starvation: background I/O holds no database connection', () => {
  let db: string;
  let app: TestApp;
  let smtp: SmtpSink;
  let hang: StallingServer;
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  const background: Promise<unknown>[] = [];

  before(async () => {
    [smtp, hang] = await Promise.all([startSmtp(), new StallingServer().start()]);
    // Every e-mail is held in its DATA phase until the test ends: the SMTP server never answers.
    smtp.beforeReply = () => stalled;
    db = await cloneTemplate();
    // The default pool (DATABASE_POOL_SIZE 10); the scheduler stays off so that the test starts the work itself.
    app = await startTestApp({ databaseUrl: db, env: { SMTP_URL: smtp.url } });
  });

  after(async () => {
    release?.();
    await hang?.stop();
    await Promise.allSettled(background);
    await app?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  it('answers every check-in with 200 while dispatchers and probes wait on hanging servers', async () => {
    const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
    await app.get(SettingsService).set(PROBE_SETTINGS.privateNetworks, '1');

    // 24 e-mails to send: 6 followers of a partner, 4 comments.
    const partner = await newPartner(app);
    for (let i = 0; i < 6; i++) {
      const user = await newUser(app);
      await app.get(ChatterService).follow({ model: 'partner', id: partner.id }, user.partner_id);
    }
    for (let i = 0; i < 4; i++)
      await app
        .get(ChatterService)
        .post(
          systemContext(),
          { model: 'partner', id: partner.id },
          { subtype: 'mail.mt_comment', body: `#${i}` },
        );

    // 8 probes, due now, of an instance whose web server accepts connections and never answers.
    const instance = await activeInstance(app, admin);
    for (let i = 0; i < 8; i++) {
      const created = await admin.post(`/api/v1/dead_mans_switch/instances/${instance.id}/probes`, {
        kind: 'http',
        name: `hanging ${i}`,
        url: `http://127.0.0.1:${hang.port}/web/login`,
        timeout_seconds: 60,
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }

    // Five instances that check in.
    const uuids = Array.from({ length: 5 }, () => newUuid());
    for (const uuid of uuids)
      assert.equal((await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 2 }))).status, 200);

    // As the scheduler does when sends are slow: dispatcher ticks (every 5 s) and probe passes (every 15 s) overlap.
    const dispatcher = app.get(NotificationDispatcher);
    const probes = app.get(ProbesService);
    // A pass that cannot even start (no connection for it) is what the scheduler would log: kept, not thrown here.
    const started = (work: Promise<unknown>) => background.push(work.catch((error: unknown) => error));
    for (let i = 0; i < 3; i++) started(dispatcher.dispatchDue());
    for (let i = 0; i < 2; i++) started(probes.runDue());

    const checkIns = async (n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const uuid = uuids[i % uuids.length];
        const { status } = await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 2 }));
        statuses.push(status);
        // Each refused check-in costs the pool's 5 s wait: stop at the first.
        if (status !== 200) break;
      }
      return statuses;
    };

    // One dispatcher's worth of e-mails is hanging on the SMTP server.
    await smtp.waitUntil(() => smtp.mails.length >= DISPATCH_WORKERS, `${DISPATCH_WORKERS} e-mails to hang`);
    const first = await checkIns(25);
    assert.deepEqual(first, Array(25).fill(200), `check-ins while work hangs: ${first.join(' ')}`);

    // Every worker is hanging now: 3 dispatchers × 4 e-mails and 2 passes × 4 probes, more than the pool holds.
    await waitFor(() => smtp.mails.length >= 3 * DISPATCH_WORKERS && hang.sockets.size >= 2 * PROBE_WORKERS, {
      what: `${3 * DISPATCH_WORKERS} e-mails and ${2 * PROBE_WORKERS} probes to hang`,
    });
    const second = await checkIns(25);
    assert.deepEqual(second, Array(25).fill(200), `check-ins while every worker hangs: ${second.join(' ')}`);
    // The SMTP server answers nothing before the test ends: every check-in above ran while the sends hung.
  });
});

describe('claims: a worker that dies leaves a claim that is taken over once its lease passed', () => {
  let db: string;
  let doomed: TestApp;
  let survivor: TestApp;
  let smtp: SmtpSink;
  let hang: StallingServer;
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  /** Message-IDs of the e-mails the SMTP server accepted (answered 250). */
  const accepted: string[] = [];
  const background: Promise<unknown>[] = [];

  before(async () => {
    [smtp, hang] = await Promise.all([startSmtp(), new StallingServer().start()]);
    // The first e-mail hangs in its DATA phase and is never answered; the next ones are accepted at once.
    smtp.beforeReply = async (mail) => {
      if (smtp.mails.length === 1) return stalled.then(() => Promise.reject(new Error('never accepted')));
      accepted.push(mail.messageId);
    };
    db = await cloneTemplate();
    doomed = await startTestApp({ databaseUrl: db, env: { SMTP_URL: smtp.url } });
    survivor = await startTestApp({ databaseUrl: db, env: { SMTP_URL: smtp.url } });
  });

  after(async () => {
    release?.();
    await hang?.stop();
    await Promise.allSettled(background);
    await survivor?.close();
    await smtp?.stop();
    await dropDatabase(db);
  });

  /** The database's clock passes the claims' lease (2 min) without the test waiting for it. */
  const leasePasses = (table: string, worker: string) =>
    query(db, `UPDATE ${table} SET claimed_until = now() - interval '1 second' WHERE claimed_by = $1`, [
      worker,
    ]);

  it('delivers a dead dispatcher’s e-mail once, with its Message-ID, and runs a dead runner’s probe once', async () => {
    const admin = await new Api(survivor.url).login(ADMIN.email, ADMIN.password);
    await survivor.get(SettingsService).set(PROBE_SETTINGS.privateNetworks, '1');
    const partner = await newPartner(survivor);
    const follower = await newUser(survivor);
    await survivor.get(ChatterService).follow({ model: 'partner', id: partner.id }, follower.partner_id);
    await survivor
      .get(ChatterService)
      .post(
        systemContext(),
        { model: 'partner', id: partner.id },
        { subtype: 'mail.mt_comment', body: 'once' },
      );
    const instance = await activeInstance(survivor, admin);
    const created = await admin.post(`/api/v1/dead_mans_switch/instances/${instance.id}/probes`, {
      kind: 'http',
      url: `http://127.0.0.1:${hang.port}/`,
      timeout_seconds: 60,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const probeId = created.body.id as number;

    // The doomed replica claims the e-mail and the probe, and hangs on the network with them.
    const doomedDispatcher = doomed.get(NotificationDispatcher);
    const doomedProbes = doomed.get(ProbesService);
    background.push(doomedDispatcher.dispatchDue().catch((error: unknown) => error));
    background.push(doomedProbes.runDue().catch((error: unknown) => error));
    await smtp.waitUntil(() => smtp.mails.length === 1, 'the doomed dispatcher to send');
    await waitFor(() => hang.sockets.size === 1, { what: 'the doomed runner to reach the instance' });
    const [row] = await query<{ id: string; email_message_id: string; claimed_by: string }>(
      db,
      "SELECT id, email_message_id, claimed_by FROM mail_notification WHERE channel = 'email'",
    );
    assert.equal(row.claimed_by, doomedDispatcher.worker);
    assert.equal(smtp.mails[0].messageId, row.email_message_id);
    // It dies: its claims stay behind, and nothing it still does reaches the database.
    await doomed.close();

    // While the lease lasts, the claims are respected: nobody sends the e-mail or runs the probe.
    const dispatcher = survivor.get(NotificationDispatcher);
    const probes = survivor.get(ProbesService);
    assert.deepEqual(await dispatcher.dispatchDue(), { sent: 0, retried: 0, failed: 0 });
    assert.equal(await probes.runDue(), 0);
    assert.equal(smtp.mails.length, 1);

    // Once it passed, the survivor takes both over: the e-mail is delivered once, with the same Message-ID.
    await leasePasses('mail_notification', doomedDispatcher.worker);
    assert.deepEqual(await dispatcher.dispatchDue(), { sent: 1, retried: 0, failed: 0 });
    assert.deepEqual(accepted, [row.email_message_id]);
    const [delivered] = await query<{ state: string; attempts: number; claimed_by: string | null }>(
      db,
      'SELECT state, attempts, claimed_by FROM mail_notification WHERE id = $1',
      [row.id],
    );
    assert.deepEqual(delivered, { state: 'sent', attempts: 2, claimed_by: null });
    assert.deepEqual(await dispatcher.dispatchDue(), { sent: 0, retried: 0, failed: 0 });
    assert.deepEqual(accepted, [row.email_message_id]);

    // The probe: run once by the survivor (its run fails fast: the hanging server is stopped first).
    await hang.stop();
    await leasePasses('dead_mans_switch_probe', doomedProbes.worker);
    assert.equal(await probes.runDue(), 1);
    assert.equal(await probes.runDue(), 0);
    const results = await query<{ n: number }>(
      db,
      'SELECT count(*)::int AS n FROM dead_mans_switch_probe_result WHERE probe_id = $1',
      [probeId],
    );
    assert.equal(results[0].n, 1);
    const [probe] = await query<{ claimed_by: string | null }>(
      db,
      'SELECT claimed_by FROM dead_mans_switch_probe WHERE id = $1',
      [probeId],
    );
    assert.equal(probe.claimed_by, null);
  });
});
