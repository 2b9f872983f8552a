import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SLOW_REQUEST_MS } from '../../src/monitoring/request-observer.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { cloneTemplate, dropDatabase } from '../harness/database.js';
import { waitFor } from '../harness/wait.js';

interface Line {
  level: number;
  msg: string;
  context?: string;
  req?: { id: string; method: string; path: string };
  res?: { statusCode: number };
  responseTime?: number;
}

function capture() {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  return {
    lines,
    sink,
    requests: () => lines.filter((l) => l.req).map((l) => l.msg.replace(/\d+ ms$/, 'N ms')),
    /** The request lines, without successful ones logged for being slow (a loaded machine makes any slow). */
    refusals: () =>
      lines
        .filter((l) => l.req && !(l.res!.statusCode < 400 && l.responseTime! >= SLOW_REQUEST_MS))
        .map((l) => l.msg.replace(/\d+ ms$/, 'N ms')),
  };
}

const checkIn = (url: string) =>
  fetch(`${url}/dead_mans_switch/alive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { database_uuid: randomUUID(), cpu: 1 } }),
  });

describe('request log', () => {
  let db: string;
  before(async () => (db = await cloneTemplate()));
  after(() => dropDatabase(db));

  describe('outside dev (RUNNING_ENV=test, as in prod)', () => {
    let app: TestApp;
    const log = capture();
    before(async () => {
      app = await startTestApp({
        databaseUrl: db,
        env: { RUNNING_ENV: 'test', LOG_LEVEL: 'info', CLOUD_PLATFORM_UNSAFE: '1' },
        logDestination: log.sink,
      });
    });
    after(() => app?.close());

    it("writes Nest's own messages through the same logger, with their context", () => {
      const started = log.lines.find((l) => l.msg === 'Nest application successfully started');
      assert.equal(started?.context, 'NestApplication');
      assert.equal(started?.level, 30);
    });

    it('writes no line for requests that succeeded, one per refused request', async () => {
      assert.equal((await fetch(`${app.url}/monitoring/ready`)).status, 200);
      assert.equal((await checkIn(app.url)).status, 200);
      assert.equal((await fetch(`${app.url}/api/v1/me`)).status, 401);
      // The refused request's line is written after the earlier requests were answered: any line of theirs
      // would be in before it.
      await waitFor(() => log.requests().some((l) => l.startsWith('GET /api/v1/me')), {
        what: 'the 401 line',
      });
      assert.deepEqual(log.refusals(), ['GET /api/v1/me 401 N ms']);
      const line = log.lines.find((l) => l.req)!;
      assert.equal(line.level, 40);
      assert.match(line.req!.id, /^[0-9a-f-]{36}$/);
    });
  });

  describe('in dev', () => {
    let app: TestApp;
    const log = capture();
    before(async () => {
      app = await startTestApp({ databaseUrl: db, env: { LOG_LEVEL: 'info' }, logDestination: log.sink });
    });
    after(() => app?.close());

    it('writes one short line per request: method, path, status, time', async () => {
      assert.equal((await fetch(`${app.url}/monitoring/ready?verbose=1`)).status, 200);
      assert.equal((await checkIn(app.url)).status, 200);
      await waitFor(() => log.requests().length >= 2, { what: 'a line for each of the two requests' });
      assert.deepEqual(log.requests(), [
        'GET /monitoring/ready 200 N ms',
        'POST /dead_mans_switch/alive 200 N ms',
      ]);
    });
  });
});
