import { HttpStatus, Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_CONFIG, AppException, type AppConfig } from '../../../src/index.js';
import { DmsMetrics } from '../dms-metrics.service.js';
import { AllowedSources, sourceAddress } from './allowed-sources.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { SourceRateLimiter } from './source-rate-limiter.js';

/** The Node.js request as @fastify/middie hands it to Nest middleware, with what it copies from Fastify's. */
type Request = IncomingMessage & { ip?: string; originalUrl?: string };
type Response = ServerResponse;
type NextFunction = (error?: unknown) => void;

export const JSON_TYPE = /^\s*application\/json\s*(?:;|$)/i;

/**
 * The transport-level defences of the endpoints instances call (alive, cancel, event), before any parsing of the check-in: the allow-list of
 * source networks (403), the content type (415) and the per-source rate (429). The body size (413) is refused
 * while reading, by core's body parser, from the manifest's `publicEndpoints`.
 */
@Injectable()
export class AliveMiddleware implements NestMiddleware {
  private readonly allowed: AllowedSources;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(SourceRateLimiter) private readonly perSource: SourceRateLimiter,
    @Inject(DmsMetrics) private readonly metrics: DmsMetrics,
  ) {
    this.allowed = AllowedSources.parse(config.env.DEAD_MANS_SWITCH_ALLOWED_CIDRS);
  }

  use(request: Request, response: Response, next: NextFunction): void {
    try {
      this.checkTransport(request, response);
      const wait = this.perSource.take(sourceAddress(request.ip));
      // The limit is cached: most requests are decided without a promise.
      if (typeof wait === 'number') {
        this.checkWait(wait, request, response);
        next();
      } else {
        wait.then((seconds) => this.checkWait(seconds, request, response)).then(() => next(), next);
      }
    } catch (error) {
      next(error);
    }
  }

  private refuse(request: Request, response: Response, result: string, error: AppException): never {
    // The check-in metric counts the alive endpoint only; cancel and event share the defences.
    if (/\/alive\/?(?:\?|$)/i.test(request.originalUrl ?? request.url ?? ''))
      this.metrics.checkIns.inc({ form: 'unknown', result });
    if (error instanceof RateLimitedException) response.setHeader('Retry-After', error.retryAfterSeconds);
    throw error;
  }

  private checkTransport(request: Request, response: Response): void {
    if (!this.allowed.allows(request.ip))
      this.refuse(
        request,
        response,
        'forbidden',
        new AppException(HttpStatus.FORBIDDEN, 'dead_mans_switch_server.errors.source_refused'),
      );
    const type = request.headers['content-type'];
    if (type !== 'application/json' && (type === undefined || !JSON_TYPE.test(type)))
      this.refuse(
        request,
        response,
        'unsupported_type',
        new AppException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'dead_mans_switch_server.errors.content_type'),
      );
  }

  private checkWait(wait: number, request: Request, response: Response): void {
    if (wait > 0)
      this.refuse(
        request,
        response,
        'rate_limited',
        new RateLimitedException('dead_mans_switch_server.errors.too_many_from_source', wait),
      );
  }
}
