import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a receiver got it, with what it answered. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  status: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** What a receiver says to a well-formed request: its service's success answer. */
type Accept = (request: Omit<ReceivedRequest, 'status'>) => Answer;

/**
 * A real HTTP server on 127.0.0.1 that imitates one service's incoming-webhook endpoint: it checks the format that
 * service accepts (answering 400 like the service when it is wrong) and keeps every request. `script` answers
 * given up front (e.g. a 503 then the normal answer); it can be stopped and restarted on its port.
 */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** Answers for the next requests, in order, before the normal behaviour. */
  readonly script: Answer[] = [];
  port = 0;
  private server?: Server;

  constructor(private readonly accept: Accept) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The requests that were accepted (2xx). */
  get accepted(): ReceivedRequest[] {
    return this.requests.filter((r) => r.status >= 200 && r.status < 300);
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const request = { path: req.url ?? '/', headers: req.headers, body, json };
        const answer = this.script.shift() ?? this.accept(request);
        this.requests.push({ ...request, status: answer.status });
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body ?? '');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const bad = (error: string): Answer => ({ status: 400, body: JSON.stringify({ error }) });

/** Slack's incoming webhook: `{"text": …}` (blocks optional), answers `ok` in text. */
export const slackReceiver = () =>
  new Receiver(({ json }) =>
    typeof json?.text === 'string' &&
    json.text.length > 0 &&
    (json.blocks === undefined || Array.isArray(json.blocks))
      ? { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' }
      : { status: 400, headers: { 'content-type': 'text/plain' }, body: 'invalid_payload' },
  );

/** A Teams Workflows webhook: a message with one Adaptive Card attachment; answers 202. */
export const teamsReceiver = () =>
  new Receiver(({ json }) => {
    const card = json?.attachments?.[0];
    return json?.type === 'message' &&
      card?.contentType === 'application/vnd.microsoft.card.adaptive' &&
      card.content?.type === 'AdaptiveCard' &&
      Array.isArray(card.content.body) &&
      card.content.body.length > 0
      ? { status: 202 }
      : bad('Invalid adaptive card');
  });

/** Pushover's messages API: token and user of 30 letters or digits, a message; `{"status":1}`. */
export const pushoverReceiver = () =>
  new Receiver(({ json }) => {
    const key = /^[A-Za-z0-9]{30}$/;
    if (!key.test(json?.token ?? ''))
      return {
        status: 400,
        body: '{"token":"invalid","status":0,"errors":["application token is invalid"]}',
      };
    if (!key.test(json?.user ?? ''))
      return { status: 400, body: '{"user":"invalid","status":0,"errors":["user identifier is invalid"]}' };
    if (typeof json.message !== 'string' || !json.message)
      return { status: 400, body: '{"status":0,"errors":["message cannot be blank"]}' };
    return { status: 200, body: JSON.stringify({ status: 1, request: 'r-1' }) };
  });

/** ntfy's JSON publishing at the server's root: a topic and a message. */
export const ntfyReceiver = () =>
  new Receiver(({ path, json }) =>
    path === '/' && /^[-_A-Za-z0-9]{1,64}$/.test(json?.topic ?? '') && typeof json.message === 'string'
      ? { status: 200, body: JSON.stringify({ id: 'n1', event: 'message', topic: json.topic }) }
      : bad('invalid request: topic and message required'),
  );

/**
 * A receiver of Vigil's signed webhooks that verifies them as the README tells receivers to: the HMAC-SHA256 of
 * `<t>.<body>` with the shared secret, compared in constant time; a bad or missing signature gets a 401.
 */
export const webhookReceiver = (secret: string) =>
  new Receiver(({ headers, body }) => {
    const header = String(headers['vigil-signature'] ?? '');
    const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
    const v1 = /(?:^|,)v1=([0-9a-f]{64})/.exec(header)?.[1];
    if (!t || !v1) return { status: 401, body: '{"error":"unsigned"}' };
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
    if (!timingSafeEqual(expected, Buffer.from(v1, 'hex')))
      return { status: 401, body: '{"error":"bad signature"}' };
    if (!headers['idempotency-key']) return bad('no Idempotency-Key');
    return { status: 204 };
  });
