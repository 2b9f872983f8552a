import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AddressRefusedError } from '../../src/mail/channels/outbound-http.js';
import { OutboundHttp } from '../../src/mail/channels/outbound-http.repository.js';
import { DnsServer } from '../harness/dns.js';

/** Far beyond what any test here needs: reaching it fails the test instead of hanging it. */
const BOUND_MS = 30_000;

describe('OutboundHttp: core’s outgoing HTTP client', () => {
  let server: Server;
  let port: number;
  let dns: DnsServer;
  let client: OutboundHttp;
  const seen: { host?: string; url?: string }[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seen.push({ host: req.headers.host, url: req.url });
      if (req.url === '/endless') {
        // 1 MiB now, and the answer never ends: only a client that stops reading gets an answer.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('x'.repeat(1024 * 1024));
        return;
      }
      if (req.url === '/silent') return;
      res.writeHead(201, { 'retry-after': '7' });
      req.pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
    dns = await new DnsServer().start();
    client = new OutboundHttp(dns.address);
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await dns.stop();
  });

  it('refuses loopback unless private networks are allowed, and metadata addresses always: nothing is sent', async () => {
    const before = seen.length;
    await assert.rejects(
      client.request({
        url: `http://127.0.0.1:${port}/`,
        signal: AbortSignal.timeout(BOUND_MS),
        allowPrivate: false,
        privateSetting: 'test.allow_private',
      }),
      (error: Error) =>
        error instanceof AddressRefusedError &&
        /127\.0\.0\.1 is a private or loopback address \(setting test\.allow_private\)/.test(error.message),
    );
    dns.records.set('metadata.outbound.test', '169.254.169.254');
    await assert.rejects(
      client.request({
        url: 'http://metadata.outbound.test/latest/meta-data/',
        signal: AbortSignal.timeout(BOUND_MS),
        allowPrivate: true,
      }),
      (error: Error) =>
        error instanceof AddressRefusedError &&
        error.message ===
          'metadata.outbound.test: 169.254.169.254 is a link-local, metadata, multicast or reserved address',
    );
    await assert.rejects(
      client.check('ftp://127.0.0.1/', { allowPrivate: true }),
      (error: Error) => error instanceof AddressRefusedError && /only http and https/.test(error.message),
    );
    assert.equal(seen.length, before, 'no request reached the server');
  });

  it('connects to the address it checked: a name only its DNS servers know, sent with its Host header', async () => {
    // The system's resolver does not know this name: a connection that looked it up again would fail.
    dns.records.set('pinned.outbound.test', '127.0.0.1');
    const response = await client.request({
      url: `http://pinned.outbound.test:${port}/echo`,
      method: 'POST',
      body: 'ping',
      signal: AbortSignal.timeout(BOUND_MS),
      allowPrivate: true,
    });
    assert.equal(response.status, 201);
    assert.equal(response.body, 'ping');
    assert.equal(response.headers['retry-after'], '7');
    assert.equal(response.truncated, false);
    assert.equal(response.address, '127.0.0.1');
    assert.deepEqual(seen.at(-1), { host: `pinned.outbound.test:${port}`, url: '/echo' });
  });

  it('reads at most maxBodyBytes and then stops, even from an answer that never ends', async () => {
    const signal = AbortSignal.timeout(BOUND_MS);
    const response = await client.request({
      url: `http://127.0.0.1:${port}/endless`,
      signal,
      allowPrivate: true,
      maxBodyBytes: 1000,
    });
    assert.equal(signal.aborted, false, 'answered before the bound, not cut by it');
    assert.equal(response.status, 200);
    assert.equal(response.truncated, true);
    assert.equal(response.body, 'x'.repeat(1000));
  });

  it('gives up when its signal aborts: a server that never answers does not hold it', async () => {
    const controller = new AbortController();
    const pending = client.request({
      url: `http://127.0.0.1:${port}/silent`,
      signal: controller.signal,
      allowPrivate: true,
    });
    // Aborted once the server has the request, so that the abort is what ends it.
    const deadline = performance.now() + BOUND_MS;
    while (seen.at(-1)?.url !== '/silent' && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort();
    await assert.rejects(pending, (error: Error) => error.name === 'AbortError');
  });
});
