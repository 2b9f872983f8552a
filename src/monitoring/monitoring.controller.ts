import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Controller,
  Get,
  Headers,
  HttpStatus,
  Inject,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../common/auth.decorators.js';
import { AppException } from '../common/app.exception.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { MetricsService } from './metrics.service.js';
import { StartupState } from './startup-state.js';

@ApiExcludeController()
@Public()
@Controller()
export class MonitoringController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly startup: StartupState,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Liveness: answers as long as the process serves HTTP, without touching the database. */
  @Get('monitoring/status')
  status() {
    return { status: 1 };
  }

  /** Readiness: the database answers, the start is done (migrations, checks, seed data) and no environment check fails. */
  @Get('monitoring/ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 2000 }),
      () => {
        if (!this.startup.started) throw new ServiceUnavailableException('the start is not done yet');
        if (this.startup.environmentFailing)
          throw new ServiceUnavailableException('an environment check fails (see npx vigil env:check)');
        return { startup: { status: 'up' as const } };
      },
    ]);
  }

  @Get('metrics')
  async metricsText(
    @Headers('authorization') authorization: string | undefined,
    @Res() response: FastifyReply,
  ) {
    if (!this.config.metricsToken) {
      // Outside dev the metrics (routes, volumes, backlog) are not for anyone who asks: no token, no scrape. The
      // `base.metrics_token` environment check warns about it.
      if (this.config.runningEnv !== 'dev')
        throw new AppException(HttpStatus.FORBIDDEN, 'core.errors.metrics_token_required');
    } else if (!sameSecret(authorization ?? '', `Bearer ${this.config.metricsToken}`)) {
      throw new AppException(HttpStatus.UNAUTHORIZED, 'core.errors.unauthenticated');
    }
    void response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}

/** Compares in constant time (of the digests), so response timing does not reveal how much of a guess was right. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
