import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Level, Logger } from 'pino';
import type { Histogram } from 'prom-client';
import type { VigilRequest } from '../common/request-context.js';

/** A request at least this slow is logged even when it succeeded. */
export const SLOW_REQUEST_MS = 1000;

export interface RequestObserverOptions {
  logger: Logger;
  /** Dev: one line per request. Otherwise only the requests worth a look: 4xx, 5xx and slow ones. */
  everyRequest: boolean;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  slowMs?: number;
}

const REQUEST_ID = /^[\w.:-]{1,100}$/;
const STARTED = Symbol('vigil.request.started');

type Observed = VigilRequest & { [STARTED]: number };

/**
 * The first middleware of every request: gives it an id (the caller's `X-Request-Id` when well-formed, for
 * tracing across services; a fresh UUID otherwise) echoed in the response, then, when the response is finished,
 * times it in `vigil_http_request_duration_seconds` by route pattern and logs it when it should be.
 *
 * Per request it only sets the id and adds one shared `finish` listener: no child logger, no closure, and nothing
 * formatted unless a line is written (pino-http built a child logger and serialized the request every time).
 */
export function requestObserver(options: RequestObserverOptions): RequestHandler {
  const { logger, everyRequest, httpDuration } = options;
  const slowMs = options.slowMs ?? SLOW_REQUEST_MS;
  // prom-client hashes the label object on every observe; one child per label set skips that.
  const timers = new Map<string, { observe(seconds: number): void }>();

  function onFinish(this: Response): void {
    const request = this.req as Observed;
    const ms = performance.now() - request[STARTED];
    const status = this.statusCode;
    // The pattern, not the URL (which would explode the label set); requests no route took are `unmatched`.
    const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
    const key = `${request.method} ${route} ${status}`;
    let timer = timers.get(key);
    if (!timer) {
      timer = httpDuration.labels({ method: request.method, route, status: String(status) });
      timers.set(key, timer);
    }
    timer.observe(ms / 1000);

    const level = levelOf(status, ms, slowMs);
    if (level === 'info' && !everyRequest) return;
    if (!logger.isLevelEnabled(level)) return;
    const path = pathOf(request.originalUrl);
    // Liveness probes hit this every few seconds: a successful one is not news, even in dev.
    if (status < 400 && path === '/monitoring/status') return;
    const time = Math.round(ms);
    logger[level](
      {
        req: { id: request.id, method: request.method, path },
        res: { statusCode: status },
        responseTime: time,
      },
      `${request.method} ${path} ${status} ${time} ms`,
    );
  }

  return function observeRequest(request: Request, response: Response, next: NextFunction): void {
    const given = request.headers['x-request-id'];
    const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    (request as Observed).id = id;
    response.setHeader('x-request-id', id);
    (request as Observed)[STARTED] = performance.now();
    response.on('finish', onFinish);
    next();
  };
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
