import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { AliveExceptionFilter } from './checkin/alive-exception.filter.js';
import { AliveController } from './checkin/alive.controller.js';
import { AliveMiddleware } from './checkin/alive.middleware.js';
import { CheckInRepository } from './checkin/checkin.repository.js';
import { CheckInService } from './checkin/checkin.service.js';
import { SourceRateLimiter } from './checkin/source-rate-limiter.js';
import { DmsMetrics } from './dms-metrics.service.js';
import { InstanceAlertsService } from './instance-alerts.service.js';
import { InstancesController } from './instances/instances.controller.js';
import { InstancesRepository } from './instances/instances.repository.js';
import { InstancesService } from './instances/instances.service.js';
import { InstancesWebController } from './web/instances-web.controller.js';
import { LogRetentionTask } from './watchdog/log-retention.task.js';
import { WatchdogRepository } from './watchdog/watchdog.repository.js';
import { WatchdogService } from './watchdog/watchdog.service.js';
import { WatchdogTask } from './watchdog/watchdog.task.js';

@Module({
  controllers: [AliveController, InstancesController, InstancesWebController],
  providers: [
    SourceRateLimiter,
    AliveExceptionFilter,
    CheckInRepository,
    CheckInService,
    DmsMetrics,
    InstanceAlertsService,
    InstancesRepository,
    InstancesService,
    WatchdogRepository,
    WatchdogService,
    WatchdogTask,
    LogRetentionTask,
  ],
})
export class DeadMansSwitchServerModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AliveMiddleware).forRoutes({ path: 'dead_mans_switch/alive', method: RequestMethod.POST });
  }
}
