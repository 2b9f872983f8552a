import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * How the fake server answers: like an OCA Odoo server, or in one of the ways a real one fails. `hang` holds the
 * request unanswered until the client gives up or the test calls `answerHeld()`.
 */
export type Behaviour = 'odoo' | 'http_500' | 'rpc_error' | 'hang';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

/** A dead man's switch server on 127.0.0.1 that records every request. */
export class FakeSwitchServer {
  readonly requests: RecordedRequest[] = [];
  behaviour: Behaviour = 'odoo';
  private readonly held: ServerResponse[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeSwitchServer> {
    const server = createServer();
    const fake = new FakeSwitchServer(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        fake.requests.push({
          method: request.method!,
          path: request.url!,
          headers: request.headers,
          body,
          json,
        });
        const reply = (status: number, payload: unknown) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(payload));
        };
        switch (fake.behaviour) {
          case 'odoo':
            // What Odoo's json route answers to a request without an id.
            return reply(200, { jsonrpc: '2.0', id: null, result: { ok: true } });
          case 'http_500':
            response.writeHead(500, { 'content-type': 'text/html' });
            return response.end('<h1>Internal Server Error</h1>');
          case 'rpc_error':
            return reply(200, {
              jsonrpc: '2.0',
              id: null,
              error: {
                code: 200,
                message: 'Odoo Server Error',
                data: { name: 'odoo.exceptions.ValidationError', message: 'database_uuid is not a UUID' },
              },
            });
          case 'hang':
            fake.held.push(response);
            return;
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** Answers the requests that `hang` holds, as Odoo would: the test, not a timer, ends a slow send. */
  answerHeld(): void {
    for (const response of this.held.splice(0)) {
      if (response.writableEnded || response.destroyed) continue;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', id: null, result: { ok: true } }));
    }
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A URL on a port where nothing listens (the port was free a moment ago and is closed again). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/dead_mans_switch/alive`;
}
