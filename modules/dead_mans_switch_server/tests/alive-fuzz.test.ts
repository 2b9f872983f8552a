import assert from 'node:assert/strict';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { SettingsService } from '../../../src/index.js';
import { startTestApp, type TestApp } from '../../../test/harness/app.js';
import { cloneTemplate, dropDatabase } from '../../../test/harness/database.js';
import { SETTINGS } from '../settings.js';
import { newUuid } from './helpers.js';

/** A fixed seed keeps CI deterministic; FC_SEED=<n> explores other cases by hand. */
const RUNS = { numRuns: 100, seed: Number(process.env.FC_SEED ?? 20261130) };
/** Values that have broken parsers before: every known key is tried with each of them, besides random ones. */
const EDGES = [
  '\u0000',
  'v\u00001',
  '1e400',
  -0,
  1e308,
  -1,
  '2024-02-30',
  '0000-01-01',
  'x'.repeat(101),
  [],
  {},
  true,
];
const KNOWN = [
  'cpu',
  'ram',
  'user_count',
  'db_size',
  'disk_free',
  'disk_total',
  'last_backup_at',
  'version',
  'uptime',
];

interface Sent {
  status: number;
  /** The check-in was accepted: a JSON-RPC result or a plain `{status: 'ok'}`. */
  accepted: boolean;
}

describe('POST /dead_mans_switch/alive under fuzzing', () => {
  let app: TestApp;
  let db: string;
  /** One connection for the thousand row counts of the file, rather than one per count. */
  let client: pg.Client;

  before(async () => {
    db = await cloneTemplate();
    app = await startTestApp({ databaseUrl: db });
    client = new pg.Client({ connectionString: db });
    await client.connect();
    // The fuzzer is one source sending thousands of requests: lift the per-source limits, keep everything else.
    await app.get(SettingsService).set(SETTINGS.checkInsPerSourcePerMinute, '0');
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsPerHour, '100000');
    await app.get(SettingsService).set(SETTINGS.maxRegistrationsGlobalPerHour, '100000');
  });

  after(async () => {
    await client?.end();
    await app?.close();
    await dropDatabase(db);
  });

  /** How many instances and check-in log rows there are. */
  async function rows(): Promise<number[]> {
    const { rows } = await client.query<{ instances: number; logs: number }>(
      `SELECT (SELECT count(*)::int FROM dead_mans_switch_instance) AS instances,
              (SELECT count(*)::int FROM dead_mans_switch_log) AS logs`,
    );
    return [rows[0].instances, rows[0].logs];
  }

  /** Sends raw bytes; asserts no 5xx, and that a refused body wrote nothing. */
  async function send(body: Uint8Array | string, headers: Record<string, string>): Promise<Sent> {
    const before = await rows();
    const response = await fetch(`${app.url}/dead_mans_switch/alive`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
    const text = await response.text();
    assert.ok(response.status < 500, `${response.status} ${text}`);
    let reply: { result?: unknown; status?: unknown } = {};
    try {
      reply = JSON.parse(text) as typeof reply;
    } catch {
      assert.fail(`not a JSON reply: ${text}`);
    }
    const accepted = response.status === 200 && (reply.result !== undefined || reply.status === 'ok');
    if (!accepted) {
      const after = await rows();
      assert.deepEqual(after, before, `a refused body (${response.status} ${text}) wrote rows`);
    }
    return { status: response.status, accepted };
  }
  const json = { 'content-type': 'application/json' };

  it('answers any JSON value without a 5xx, and stores nothing it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.boolean(), async (value, wrapped) => {
        const body = wrapped ? { jsonrpc: '2.0', method: 'call', params: value } : value;
        const sent = await send(JSON.stringify(body), json);
        assert.ok([200, 400, 413].includes(sent.status), String(sent.status));
        assert.equal(sent.accepted, false, 'no uuid, no check-in');
      }),
      RUNS,
    );
  });

  it('accepts or refuses each known key with any value, never with a 5xx', async () => {
    const anyValue = fc.oneof(fc.jsonValue(), fc.string({ unit: 'binary' }), fc.double());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...KNOWN), anyValue, fc.boolean(), async (key, value, wrapped) => {
        const params = { database_uuid: newUuid(), [key]: value };
        const body = wrapped ? { jsonrpc: '2.0', method: 'call', params } : params;
        const sent = await send(JSON.stringify(body), json);
        assert.ok([200, 400].includes(sent.status), String(sent.status));
      }),
      RUNS,
    );
  });

  it('accepts or refuses each known key with each edge value, never with a 5xx', async () => {
    for (const key of KNOWN) {
      for (const value of EDGES) {
        const sent = await send(JSON.stringify({ database_uuid: newUuid(), [key]: value }), json);
        assert.ok([200, 400].includes(sent.status), `${key}=${JSON.stringify(value)}: ${sent.status}`);
      }
    }
  });

  it('refuses arbitrary bytes and wrong content types without a 5xx', async () => {
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '',
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), contentType, async (bytes, type) => {
        const sent = await send(bytes, type ? { 'content-type': type } : {});
        assert.equal(sent.accepted, false);
      }),
      RUNS,
    );
    const valid = JSON.stringify({ database_uuid: newUuid() });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])
      assert.equal((await send(valid, { 'content-type': type })).status, 415, type);
  });

  it('reads compressed bodies within the same 16 KiB limit, after inflating them', async () => {
    const valid = JSON.stringify({ database_uuid: newUuid(), cpu: 1 });
    for (const [encoding, compress] of [
      ['gzip', gzipSync],
      ['deflate', deflateSync],
      ['br', brotliCompressSync],
    ] as const) {
      const ok = await send(compress(Buffer.from(valid)), { ...json, 'content-encoding': encoding });
      assert.equal(ok.status, 200, `${encoding}: ${ok.status}`);
      assert.ok(ok.accepted, encoding);
      // A small compressed body that inflates to 10 MB is refused, not inflated into memory.
      const bomb = compress(
        Buffer.from(`{"database_uuid":"${newUuid()}","pad":"${'0'.repeat(10_000_000)}"}`),
      );
      assert.ok(bomb.length < 16_384);
      const refused = await send(bomb, { ...json, 'content-encoding': encoding });
      assert.equal(refused.status, 413, `${encoding} bomb`);
    }
    const corrupt = await send(Buffer.from('not gzip at all'), { ...json, 'content-encoding': 'gzip' });
    assert.equal(corrupt.status, 400);
    const unknown = await send(valid, { ...json, 'content-encoding': 'zstd-or-anything' });
    assert.equal(unknown.status, 415);
  });

  it('survives deep nesting and duplicate keys', async () => {
    const depth = 8000;
    for (const nested of [
      '['.repeat(depth) + ']'.repeat(depth),
      '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
      `{"jsonrpc":"2.0","method":"call","params":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    ]) {
      const sent = await send(nested, json);
      assert.ok([200, 400, 413].includes(sent.status), String(sent.status));
      assert.equal(sent.accepted, false);
    }
    // JSON keeps the last of duplicate keys, and so do we: the uuid that counts is the last one.
    const uuid = newUuid();
    assert.equal((await send(`{"database_uuid":"nope","database_uuid":"${uuid}"}`, json)).accepted, true);
    assert.equal((await send(`{"database_uuid":"${uuid}","database_uuid":"nope"}`, json)).status, 400);
  });

  it('keeps answering afterwards', async () => {
    assert.equal((await fetch(`${app.url}/monitoring/status`)).status, 200);
    const sent = await send(
      JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { database_uuid: newUuid() } }),
      json,
    );
    assert.equal(sent.accepted, true);
  });
});
