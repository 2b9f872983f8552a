import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { LoadedAddon } from '../../src/addons/addon-loader.js';
import { bodyParsers, useBodyParsers } from '../../src/bootstrap/body-parsers.js';

interface Outcome {
  status: number;
  body: unknown;
  type?: string;
  limit?: number;
}

/** Sends `body` with a Content-Length (the fast path) or chunked (body-parser's path). */
function send(url: string, path: string, body: Buffer, chunked: boolean, type = 'application/json') {
  return new Promise<Outcome>((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': type };
    if (!chunked) headers['content-length'] = body.length;
    const request = httpRequest(`${url}${path}`, { method: 'POST', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          ...(JSON.parse(Buffer.concat(chunks).toString()) as object),
        } as Outcome),
      );
    });
    request.on('error', reject);
    if (chunked) {
      // Two writes: no Content-Length, Transfer-Encoding: chunked.
      request.write(body.subarray(0, Math.floor(body.length / 2)));
      request.end(body.subarray(Math.floor(body.length / 2)));
    } else request.end(body);
  });
}

describe('body parsers (unit)', () => {
  let url: string;
  let close: () => Promise<unknown>;

  before(async () => {
    const addon = {
      manifest: {
        publicEndpoints: [
          { method: 'POST', path: '/small', bodyLimit: 64 },
          { method: 'POST', path: '/things/:id', bodyLimit: 80 },
        ],
      },
    } as unknown as LoadedAddon;
    const app = Fastify({ routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } });
    useBodyParsers(app, bodyParsers([addon]));
    for (const path of ['/small', '/big', '/things/:id'])
      app.post(path, (request) => ({ body: request.body }));
    app.setErrorHandler((error: { status?: number; type?: string; limit?: number }, _request, reply) =>
      reply.code(error.status ?? 500).send({ body: null, type: error.type, limit: error.limit }),
    );
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    url = address;
    close = () => app.close();
  });
  after(() => close());

  it('reads a plain JSON body with a length exactly as body-parser does', async () => {
    const cases = [
      '{"database_uuid":"x","cpu":1.5,"user_count":null}',
      '  \n [1, 2, {"a": "é"}]',
      '\ufeff{"bom": true}',
      '',
      '"a string"',
      '42',
      '{"unterminated": ',
      '   ',
      '{"__proto__": {"polluted": true}}',
    ];
    for (const text of cases) {
      const body = Buffer.from(text);
      const fast = await send(url, '/big', body, false);
      const reference = await send(url, '/big', body, true);
      assert.deepEqual(fast, reference, JSON.stringify(text));
    }
    assert.deepEqual((await send(url, '/big', Buffer.from('[1]'), false)).body, [1]);
    assert.equal((await send(url, '/big', Buffer.from('42'), false)).type, 'entity.parse.failed');
  });

  it("refuses a body over the route's limit with 413 and the limit, whichever way it comes", async () => {
    const body = Buffer.from(JSON.stringify({ padding: 'x'.repeat(100) }));
    for (const chunked of [false, true]) {
      const refused = await send(url, '/small', body, chunked);
      assert.equal(refused.status, 413);
      assert.equal(refused.type, 'entity.too.large');
      assert.equal(refused.limit, 64);
    }
    assert.equal((await send(url, '/SMALL/', body, false)).status, 413);
    assert.equal((await send(url, '/big', body, false)).status, 200);
  });

  it('keys the limit by the route the router matched, however its path is spelled (issue 22)', async () => {
    const body = Buffer.from(JSON.stringify({ padding: 'x'.repeat(100) }));
    // Each spelling reaches the /small route; each must get its limit, not the default megabyte.
    for (const path of ['/%73mall', '/%73%6D%61%6C%6C', '/Sm%61ll/', '/small/', '/SMALL?x=1', '/%53MALL']) {
      for (const chunked of [false, true]) {
        const refused = await send(url, path, body, chunked);
        assert.equal(refused.status, 413, `${path} ${chunked ? 'chunked' : 'with a length'}`);
        assert.equal(refused.limit, 64, path);
      }
    }
    const small = Buffer.from('{"a":1}');
    assert.deepEqual(
      (await send(url, '/%73mall', small, false)).body,
      { a: 1 },
      'the route itself is reached',
    );
    // A path no route matches gets the smallest limit: its body is never used.
    assert.equal((await send(url, '//small', body, false)).limit, 64);
    assert.equal((await send(url, '/nowhere', body, true)).limit, 64);
    // A route with parameters is keyed by its pattern.
    const params = await send(
      url,
      '/things/42%2F',
      Buffer.from(JSON.stringify({ p: 'x'.repeat(100) })),
      false,
    );
    assert.equal(params.status, 413);
    assert.equal(params.limit, 80);
  });

  it('leaves other content types to the form parser or unparsed', async () => {
    const form = await send(url, '/big', Buffer.from('a=1&b=2'), false, 'application/x-www-form-urlencoded');
    assert.deepEqual(form.body, { a: '1', b: '2' });
    const charset = await send(url, '/big', Buffer.from('{"a":1}'), false, 'application/json; charset=UTF-8');
    assert.deepEqual(charset.body, { a: 1 });
  });
});
