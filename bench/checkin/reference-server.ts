/**
 * The benchmark's reference: what Node and PostgreSQL do on this machine without the framework. A bare `node:http`
 * server with a `pg` pool of the same size that parses a check-in with Vigil's own parser and runs Vigil's own
 * one-statement check-in, plus a hello route standing for `GET /monitoring/status`. Started by `run.ts` as a
 * separate process: `node reference-server.js <port>` with DATABASE_URL and DATABASE_POOL_SIZE set.
 */
import { createServer, type IncomingMessage } from 'node:http';
import pg from 'pg';
import { parseCheckIn, readEnvelope } from '../../modules/dead_mans_switch_server/checkin/alive-payload.js';
import { quickCheckInQuery } from '../../modules/dead_mans_switch_server/checkin/checkin.repository.js';

const MAX_BODY = 16 * 1024;
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
});

function readBody(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        request.destroy();
        resolve(undefined);
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

const server = createServer((request, response) => {
  const reply = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    response.end(text);
  };
  if (request.method === 'GET' && request.url === '/monitoring/status') return reply(200, { status: 1 });
  if (request.method !== 'POST' || request.url !== '/dead_mans_switch/alive') return reply(404, {});
  readBody(request)
    .then(async (text) => {
      if (text === undefined) return reply(413, {});
      const envelope = readEnvelope(JSON.parse(text) as unknown);
      const parsed = parseCheckIn(envelope.params);
      if ('error' in parsed) return reply(400, parsed.error);
      const { rows } = await pool.query<{ state: string }>(quickCheckInQuery(parsed.checkIn, new Date()));
      if (!rows[0]) return reply(404, {});
      const result = { status: 'ok', instance_state: rows[0].state };
      reply(200, envelope.form === 'jsonrpc' ? { jsonrpc: '2.0', id: envelope.id, result } : result);
    })
    .catch(() => reply(500, {}));
});

server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('reference listening'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
