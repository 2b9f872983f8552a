import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { pino } from 'pino';
import { Histogram, Registry } from 'prom-client';
import { observeRequests, requestId } from '../../src/monitoring/request-observer.js';

/** A Fastify app behind the observer, and every line the observer logged. */
async function observed(everyRequest: boolean) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const registry = new Registry();
  const httpDuration = new Histogram({
    name: 'test_http_request_duration_seconds',
    help: 'test',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const app = Fastify({ genReqId: requestId });
  observeRequests(app, { logger: pino({ level: 'info' }, sink), everyRequest, httpDuration, slowMs: 200 });
  app.get('/things/:id', (request) => ({ id: (request.params as { id: string }).id }));
  app.get('/slow', async () => {
    await delay(250);
    return {};
  });
  app.get('/broken', () => {
    throw new Error('boom');
  });
  app.get('/monitoring/status', () => ({ status: 1 }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers });
  // The line is written on `finish`, just after the client got the answer.
  const settle = () => delay(20);
  return { lines, registry, get, settle, close: () => app.close() };
}

describe('request observer (unit)', () => {
  describe('in dev: one short line per request', () => {
    let app: Awaited<ReturnType<typeof observed>>;
    before(async () => (app = await observed(true)));
    after(() => app.close());

    it('logs method, path, status and time, and nothing of the headers or the query', async () => {
      const response = await app.get('/things/7?token=secret', {
        authorization: 'Bearer secret-token',
        cookie: 'vigil_session=secret',
        'user-agent': 'test-agent',
      });
      assert.equal(response.status, 200);
      await app.settle();
      assert.equal(app.lines.length, 1);
      const [line] = app.lines;
      assert.match(String(line.msg), /^GET \/things\/7 200 \d+ ms$/);
      assert.equal(line.level, 30);
      assert.deepEqual(Object.keys(line.req as object).sort(), ['id', 'method', 'path']);
      assert.deepEqual(line.res, { statusCode: 200 });
      assert.doesNotMatch(JSON.stringify(line), /secret|test-agent|headers/);
    });

    it('leaves out successful liveness probes', async () => {
      app.lines.length = 0;
      assert.equal((await app.get('/monitoring/status')).status, 200);
      await app.settle();
      assert.deepEqual(app.lines, []);
    });
  });

  describe('elsewhere (prod): only errors and slow requests', () => {
    let app: Awaited<ReturnType<typeof observed>>;
    before(async () => (app = await observed(false)));
    after(() => app.close());

    it('writes nothing for a request that succeeded in time', async () => {
      for (let i = 0; i < 5; i++) assert.equal((await app.get(`/things/${i}`)).status, 200);
      await app.settle();
      assert.deepEqual(app.lines, []);
    });

    it('writes one line for a 4xx (warn), a 5xx (error) and a slow 2xx (warn)', async () => {
      assert.equal((await app.get('/nowhere')).status, 404);
      assert.equal((await app.get('/broken')).status, 500);
      assert.equal((await app.get('/slow')).status, 200);
      await app.settle();
      assert.deepEqual(
        app.lines.map((l) => [l.level, String(l.msg).replace(/\d+ ms$/, 'N ms')]),
        [
          [40, 'GET /nowhere 404 N ms'],
          [50, 'GET /broken 500 N ms'],
          [40, 'GET /slow 200 N ms'],
        ],
      );
      assert.ok(Number(app.lines[2].responseTime) >= 200);
    });

    it("keeps a caller's well-formed X-Request-Id, else gives a fresh UUID, and logs it", async () => {
      const traced = await app.get('/nowhere', { 'x-request-id': 'trace-42' });
      assert.equal(traced.headers.get('x-request-id'), 'trace-42');
      const fresh = await app.get('/things/1', { 'x-request-id': 'not valid!' });
      assert.match(fresh.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      await app.settle();
      assert.equal((app.lines.at(-1)!.req as { id: string }).id, 'trace-42');
    });

    it('times every request by route pattern, not by URL', async () => {
      await app.get('/things/a');
      await app.get('/things/b');
      await app.settle();
      const text = await app.registry.metrics();
      assert.match(
        text,
        /test_http_request_duration_seconds_count\{method="GET",route="\/things\/:id",status="200"\} \d+/,
      );
      assert.match(text, /route="unmatched",status="404"/);
      assert.doesNotMatch(text, /\/things\/a/);
    });
  });
});
