import { HttpStatus, Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, AppException, type AppConfig } from '../../../src/index.js';
import { DmsMetrics } from '../dms-metrics.service.js';
import { AllowedSources, sourceAddress } from './allowed-sources.js';
import { RateLimitedException } from './rate-limited.exception.js';
import { SourceRateLimiter } from './source-rate-limiter.js';

/**
 * The transport-level defences of the endpoints instances call (alive, cancel, event), before any parsing of the check-in: the allow-list of
 * source networks (403), the content type (415) and the per-source rate (429). The body size (413) is refused
 * while reading, by core's body parser, from the manifest's `bodyLimits`.
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
    this.check(request, response).then(() => next(), next);
  }

  private async check(request: Request, response: Response): Promise<void> {
    const refuse = (result: string, error: AppException) => {
      // The check-in metric counts the alive endpoint only; cancel and event share the defences.
      if (/\/alive\/?$/i.test(request.path)) this.metrics.checkIns.inc({ form: 'unknown', result });
      if (error instanceof RateLimitedException) response.setHeader('Retry-After', error.retryAfterSeconds);
      throw error;
    };
    if (!this.allowed.allows(request.ip))
      refuse(
        'forbidden',
        new AppException(HttpStatus.FORBIDDEN, 'dead_mans_switch_server.errors.source_refused'),
      );
    if (!request.is('application/json'))
      refuse(
        'unsupported_type',
        new AppException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'dead_mans_switch_server.errors.content_type'),
      );
    const wait = await this.perSource.take(sourceAddress(request.ip));
    if (wait > 0)
      refuse(
        'rate_limited',
        new RateLimitedException('dead_mans_switch_server.errors.too_many_from_source', wait),
      );
  }
}
