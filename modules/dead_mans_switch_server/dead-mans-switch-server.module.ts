import { Module, RequestMethod, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { AliveExceptionFilter } from './checkin/alive-exception.filter.js';
import { AliveController } from './checkin/alive.controller.js';
import { AliveMiddleware } from './checkin/alive.middleware.js';
import { CheckInRepository } from './checkin/checkin.repository.js';
import { IgnoredStatisticsRepository } from './checkin/ignored-statistics.repository.js';
import { IgnoredStatisticsService } from './checkin/ignored-statistics.service.js';
import { CheckInService } from './checkin/checkin.service.js';
import { SourceRateLimiter } from './checkin/source-rate-limiter.js';
import { InstanceCancelService } from './checkin/instance-cancel.service.js';
import { CachedSettings } from './cached-settings.service.js';
import { DmsMetrics } from './dms-metrics.service.js';
import { InstanceEventsController } from './events/instance-events.controller.js';
import { InstanceEventsRepository } from './events/instance-events.repository.js';
import { InstanceEventsService } from './events/instance-events.service.js';
import { InstanceAlertsRepository } from './instance-alerts.repository.js';
import { InstanceAlertsService } from './instance-alerts.service.js';
import { InstancesController } from './instances/instances.controller.js';
import { InstancesRepository } from './instances/instances.repository.js';
import { InstancesService } from './instances/instances.service.js';
import { InstancesWebController } from './web/instances-web.controller.js';
import { LogPartitionsRepository } from './logs/log-partitions.repository.js';
import { WatchdogRepository } from './watchdog/watchdog.repository.js';
import { WatchdogService } from './watchdog/watchdog.service.js';
import { MaintenanceWindowsController } from './maintenance/maintenance-windows.controller.js';
import { MaintenanceWindowsRepository } from './maintenance/maintenance-windows.repository.js';
import { MaintenanceWindowsService } from './maintenance/maintenance-windows.service.js';
import { StormBreakerService } from './storm/storm-breaker.service.js';
import { ProbesModule } from './probes/probes.module.js';
import { StormRepository } from './storm/storm.repository.js';
import { INSTANCE_ENDPOINTS } from './settings.js';

@Module({
  imports: [ProbesModule],
  controllers: [
    AliveController,
    InstancesController,
    InstanceEventsController,
    MaintenanceWindowsController,
    InstancesWebController,
  ],
  providers: [
    SourceRateLimiter,
    AliveExceptionFilter,
    CheckInRepository,
    CheckInService,
    IgnoredStatisticsRepository,
    IgnoredStatisticsService,
    DmsMetrics,
    InstanceAlertsService,
    InstanceAlertsRepository,
    InstancesRepository,
    InstancesService,
    WatchdogRepository,
    WatchdogService,
    LogPartitionsRepository,
    CachedSettings,
    InstanceCancelService,
    InstanceEventsRepository,
    InstanceEventsService,
    StormRepository,
    StormBreakerService,
    MaintenanceWindowsRepository,
    MaintenanceWindowsService,
  ],
})
export class DeadMansSwitchServerModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(AliveMiddleware)
      .forRoutes(...INSTANCE_ENDPOINTS.map((path) => ({ path: path.slice(1), method: RequestMethod.POST })));
  }
}
