import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Level, Logger } from 'pino';
import type { Histogram } from 'prom-client';

/** A request at least this slow is logged even when it succeeded. */
export const SLOW_REQUEST_MS = 1000;

export interface RequestObserverOptions {
  logger: Logger;
  /** Dev: one line per request. Otherwise only the requests worth a look: 4xx, 5xx and slow ones. */
  everyRequest: boolean;
  /** The histogram, or how to get it on the first request (the hook is added before the application exists). */
  httpDuration: Histogram<'method' | 'route' | 'status'> | (() => Histogram<'method' | 'route' | 'status'>);
  slowMs?: number;
}

export const REQUEST_ID = /^[\w.:-]{1,100}$/;
const OBSERVED = Symbol('vigil.request.observed');

type Observed = ServerResponse & { [OBSERVED]?: { request: FastifyRequest; started: number } };

/**
 * Fastify's `genReqId`: the caller's `X-Request-Id` when well-formed (for tracing across services), a fresh UUID
 * otherwise. Fastify keeps it as `request.id`.
 */
export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The first hook of every request: echoes its id in the response, then, when the response is finished, times it
 * in `vigil_http_request_duration_seconds` by route pattern and logs it when it should be.
 *
 * The id goes on the Node.js response and the timing listens to its `finish`, so that responses ended by a
 * middleware (the check-in defences) are counted as well as those Fastify sends. Per request it only sets the
 * header and adds one shared `finish` listener: no child logger, no closure, and nothing formatted unless a line is
 * written.
 */
export function observeRequests(fastify: FastifyInstance, options: RequestObserverOptions): void {
  const { logger, everyRequest } = options;
  let histogram: Histogram<'method' | 'route' | 'status'> | undefined;
  const httpDuration = () =>
    (histogram ??=
      typeof options.httpDuration === 'function' ? options.httpDuration() : options.httpDuration);
  const slowMs = options.slowMs ?? SLOW_REQUEST_MS;
  // prom-client hashes the label object on every observe; one child per label set skips that.
  const timers = new Map<string, { observe(seconds: number): void }>();

  function onFinish(this: Observed): void {
    const observed = this[OBSERVED];
    if (!observed) return;
    const { request, started } = observed;
    const ms = performance.now() - started;
    const status = this.statusCode;
    const method = request.method;
    // The pattern, not the URL (which would explode the label set); requests no route took are `unmatched`.
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const key = `${method} ${route} ${status}`;
    let timer = timers.get(key);
    if (!timer) {
      timer = httpDuration().labels({ method, route, status: String(status) });
      timers.set(key, timer);
    }
    timer.observe(ms / 1000);

    const level = levelOf(status, ms, slowMs);
    if (level === 'info' && !everyRequest) return;
    if (!logger.isLevelEnabled(level)) return;
    const path = pathOf(request.url);
    // Liveness probes hit this every few seconds: a successful one is not news, even in dev.
    if (status < 400 && path === '/monitoring/status') return;
    const time = Math.round(ms);
    logger[level](
      {
        req: { id: request.id, method, path },
        res: { statusCode: status },
        responseTime: time,
      },
      `${method} ${path} ${status} ${time} ms`,
    );
  }

  fastify.addHook('onRequest', (request, reply, done) => {
    const response = reply.raw as Observed;
    response.setHeader('x-request-id', request.id);
    response[OBSERVED] = { request, started: performance.now() };
    response.on('finish', onFinish);
    done();
  });
}

/** Server errors are errors (an outage's 503s are the outage's warning, already logged once per request). */
function levelOf(status: number, ms: number, slowMs: number): Level {
  if (status >= 500 && status !== 503) return 'error';
  if (status >= 400 || ms >= slowMs) return 'warn';
  return 'info';
}

/** The path without the query string, which may carry what does not belong in a log. */
function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
