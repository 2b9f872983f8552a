import { defineAddon } from '../../src/index.js';
import { AllowedSources } from './checkin/allowed-sources.js';
import { AliveExceptionFilter } from './checkin/alive-exception.filter.js';
import { AliveController } from './checkin/alive.controller.js';
import { AliveMiddleware } from './checkin/alive.middleware.js';
import { CheckInRepository } from './checkin/checkin.repository.js';
import { CheckInService } from './checkin/checkin.service.js';
import { SourceRateLimiter } from './checkin/source-rate-limiter.js';
import { PerUuidRateLimiter } from './checkin/per-uuid-rate-limiter.js';
import { InstanceCancelService } from './checkin/instance-cancel.service.js';
import { DmsMetrics } from './dms-metrics.service.js';
import { InstanceEventsController } from './events/instance-events.controller.js';
import { InstanceEventsRepository } from './events/instance-events.repository.js';
import { InstanceEventsService } from './events/instance-events.service.js';
import { InstanceAlertsRepository } from './instance-alerts.repository.js';
import { InstanceAlertsService } from './instance-alerts.service.js';
import { InstancesController } from './instances/instances.controller.js';
import { InstancesRepository } from './instances/instances.repository.js';
import { InstanceFields } from './instances/instance-fields.js';
import { InstancesService } from './instances/instances.service.js';
import { InstancesWebController } from './web/instances-web.controller.js';
import { LogPartitionsRepository } from './logs/log-partitions.repository.js';
import { WatchdogRepository } from './watchdog/watchdog.repository.js';
import { WatchdogService } from './watchdog/watchdog.service.js';
import { MaintenanceWindowsController } from './maintenance/maintenance-windows.controller.js';
import { MaintenanceWindowsRepository } from './maintenance/maintenance-windows.repository.js';
import { MaintenanceWindowsService } from './maintenance/maintenance-windows.service.js';
import { StormBreakerService } from './storm/storm-breaker.service.js';
import { StormRepository } from './storm/storm.repository.js';
import { InstanceAlert } from './instance-alert.entity.js';
import { MaintenanceWindow } from './maintenance-window.entity.js';
import { InstanceEvent } from './instance-event.entity.js';
import { InstanceLog } from './instance-log.entity.js';
import { InstanceLogHour } from './instance-log-hour.entity.js';
import { Instance } from './instance.entity.js';
import { INSTANCE_THREAD } from './instance.thread.js';
import { DeadMansSwitchServerInit1732500000000 } from './migrations/1732500000000-dead_mans_switch_server-init.js';
import { DeadMansSwitchServerNextInCancelEvents1732800000000 } from './migrations/1732800000000-dead_mans_switch_server-next-in-cancel-events.js';
import { DeadMansSwitchServerCronExpectation1733100000000 } from './migrations/1733100000000-dead_mans_switch_server-cron-expectation.js';
import { DeadMansSwitchServerMaintenance1733000000000 } from './migrations/1733000000000-dead_mans_switch_server-maintenance.js';
import { DeadMansSwitchServerStorm1732900000000 } from './migrations/1732900000000-dead_mans_switch_server-storm.js';
import { DeadMansSwitchServerLogPartitions1733200000000 } from './migrations/1733200000000-dead_mans_switch_server-log-partitions.js';
import { DeadMansSwitchServerIgnoredStatistics1733450000000 } from './migrations/1733450000000-dead_mans_switch_server-ignored-statistics.js';
import { IgnoredStatisticsRepository } from './checkin/ignored-statistics.repository.js';
import { IgnoredStatisticsService } from './checkin/ignored-statistics.service.js';
import { DeadMansSwitchServerRegistrationAbuse1733460000000 } from './migrations/1733460000000-dead_mans_switch_server-registration-abuse.js';
import { DeadMansSwitchServerCloneDetection1733470000000 } from './migrations/1733470000000-dead_mans_switch_server-clone-detection.js';
import { DeadMansSwitchServerDependenciesRuns1733485000000 } from './migrations/1733485000000-dead_mans_switch_server-dependencies-runs.js';
import { EventRetentionTask } from './events/event-retention.task.js';
import { NewInstancePurgeTask } from './instances/new-instance-purge.task.js';
import {
  INSTANCE_ENDPOINTS,
  INSTANCE_MODEL,
  MAX_BODY_BYTES,
  DMS_SETTINGS,
  SUBTYPE_CANCELLED,
  SUBTYPE_DOWN,
  SUBTYPE_EVENT,
  SUBTYPE_UP,
} from './settings.js';
import { smtpForFollowersCheck } from './smtp-for-followers.check.js';
import { LogPartitionsTask } from './logs/log-partitions.task.js';
import { LogRollupTask } from './logs/log-rollup.task.js';
import { LogRetentionTask } from './logs/log-retention.task.js';
import { WatchdogTask } from './watchdog/watchdog.task.js';
import { AvailabilityRepository } from './availability/availability.repository.js';
import { AvailabilityService } from './availability/availability.service.js';
import { InstanceDependenciesRepository } from './dependencies/instance-dependencies.repository.js';
import { InstanceDependenciesService } from './dependencies/instance-dependencies.service.js';
import { JobRunsRepository } from './runs/job-runs.repository.js';
import { JobRunsService } from './runs/job-runs.service.js';
import { RunTimingService } from './runs/run-timing.service.js';
import { DeadMansSwitchServerIncidents1733481000000 } from './migrations/1733481000000-dead_mans_switch_server-incidents.js';
import { DeadMansSwitchServerIncidentInstanceIndex1733490000000 } from './migrations/1733490000000-dead_mans_switch_server-incident-instance-index.js';
import { EscalationStep, Incident, IncidentInstance } from './incidents/incident.entity.js';
import { INCIDENT_SETTINGS } from './incidents/incident-settings.js';
import { IncidentAckController } from './incidents/incident-ack.controller.js';
import { IncidentsController } from './incidents/incidents.controller.js';
import { IncidentsRepository } from './incidents/incidents.repository.js';
import { IncidentsService } from './incidents/incidents.service.js';
import { CustomerEscalationPanel } from './web/customer-escalation.panel.js';
import { IncidentsWebController } from './incidents/incidents-web.controller.js';
import { ACK_PATH } from './incidents/ack-links.js';
import { EscalationController } from './incidents/escalation.controller.js';
import { EscalationRepository } from './incidents/escalation.repository.js';
import { EscalationService } from './incidents/escalation.service.js';
import { EscalationTask } from './incidents/escalation.task.js';

export const manifest = defineAddon({
  name: 'dead_mans_switch_server',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary: 'Receives check-ins from customer instances and tells their followers when one goes quiet',
  depends: [],
  entities: [
    Instance,
    InstanceLog,
    InstanceLogHour,
    InstanceAlert,
    InstanceEvent,
    MaintenanceWindow,
    Incident,
    IncidentInstance,
    EscalationStep,
  ],
  migrations: [
    DeadMansSwitchServerInit1732500000000,
    DeadMansSwitchServerNextInCancelEvents1732800000000,
    DeadMansSwitchServerStorm1732900000000,
    DeadMansSwitchServerMaintenance1733000000000,
    DeadMansSwitchServerCronExpectation1733100000000,
    DeadMansSwitchServerLogPartitions1733200000000,
    DeadMansSwitchServerIgnoredStatistics1733450000000,
    DeadMansSwitchServerRegistrationAbuse1733460000000,
    DeadMansSwitchServerCloneDetection1733470000000,
    DeadMansSwitchServerDependenciesRuns1733485000000,
    DeadMansSwitchServerIncidents1733481000000,
    DeadMansSwitchServerIncidentInstanceIndex1733490000000,
  ],
  settings: [...Object.values(DMS_SETTINGS), ...Object.values(INCIDENT_SETTINGS)],
  seed: {
    subtypes: [
      {
        key: SUBTYPE_DOWN,
        name: 'dead_mans_switch_server.subtypes.instance_down',
        default: true,
        internal: false,
        model: INSTANCE_MODEL,
      },
      {
        key: SUBTYPE_UP,
        name: 'dead_mans_switch_server.subtypes.instance_up',
        default: true,
        internal: false,
        model: INSTANCE_MODEL,
      },
      {
        key: SUBTYPE_EVENT,
        name: 'dead_mans_switch_server.subtypes.instance_event',
        default: true,
        internal: false,
        model: INSTANCE_MODEL,
      },
      {
        // An internal note: users only.
        key: SUBTYPE_CANCELLED,
        name: 'dead_mans_switch_server.subtypes.instance_cancelled',
        default: true,
        internal: true,
        model: INSTANCE_MODEL,
      },
    ],
  },
  tasks: [
    { id: 'dead_mans_switch.watchdog', everySeconds: 30, provider: WatchdogTask },
    { id: 'dead_mans_switch.log_retention', everySeconds: 86_400, provider: LogRetentionTask },
    { id: 'dead_mans_switch.log_partitions', everySeconds: 3_600, provider: LogPartitionsTask },
    { id: 'dead_mans_switch.log_rollup', everySeconds: 300, provider: LogRollupTask },
    { id: 'dead_mans_switch.event_retention', everySeconds: 86_400, provider: EventRetentionTask },
    { id: 'dead_mans_switch.new_instance_purge', everySeconds: 86_400, provider: NewInstancePurgeTask },
    { id: 'dead_mans_switch.escalation', everySeconds: 30, provider: EscalationTask },
  ],
  templates: 'templates',
  threads: [INSTANCE_THREAD],
  checks: [smtpForFollowersCheck],
  // Every malformed CIDR is named, each on its own line.
  variables: (env) =>
    (env.DEAD_MANS_SWITCH_ALLOWED_CIDRS ?? '').split(',').flatMap((entry) => {
      try {
        AllowedSources.parse(entry);
        return [];
      } catch (error) {
        return [(error as Error).message];
      }
    }),
  controllers: [
    AliveController,
    InstancesController,
    InstanceEventsController,
    MaintenanceWindowsController,
    InstancesWebController,
    // Incidents: API, web pages, and the public acknowledge link.
    IncidentsController,
    IncidentsWebController,
    IncidentAckController,
    EscalationController,
  ],
  providers: [
    SourceRateLimiter,
    PerUuidRateLimiter,
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
    // What addons depending on this one add to the instances' API (dead_mans_switch_probes: `probes`).
    InstanceFields,
    WatchdogRepository,
    WatchdogService,
    LogPartitionsRepository,
    InstanceCancelService,
    InstanceEventsRepository,
    InstanceEventsService,
    StormRepository,
    StormBreakerService,
    MaintenanceWindowsRepository,
    MaintenanceWindowsService,
    // Availability over a period (down/up alerts, maintenance), read by report addons.
    AvailabilityRepository,
    AvailabilityService,
    // Dependencies (suppression) and job-run timing.
    InstanceDependenciesRepository,
    InstanceDependenciesService,
    JobRunsRepository,
    JobRunsService,
    RunTimingService,
    IncidentsRepository,
    IncidentsService,
    EscalationRepository,
    EscalationService,
  ],
  // The endpoints instances call: no authentication, 16 KiB bodies, and the transport defences before parsing.
  publicEndpoints: [
    ...INSTANCE_ENDPOINTS.map((path) => ({ method: 'POST' as const, path, bodyLimit: MAX_BODY_BYTES })),
    // The acknowledge link of an alert: the signed token is the credential (GET shows, POST acknowledges).
    { method: 'GET', path: `${ACK_PATH}/:token` },
    { method: 'POST', path: `${ACK_PATH}/:token`, bodyLimit: 1024 },
  ],
  middleware: [
    { use: AliveMiddleware, routes: INSTANCE_ENDPOINTS.map((path) => ({ method: 'POST', path })) },
  ],
  web: {
    templates: 'web/templates',
    home: '/web/instances',
    menus: [
      {
        id: 'dead_mans_switch.instances',
        label: 'dead_mans_switch_server.web.nav.instances',
        path: '/web/instances',
        sequence: 10,
      },
      {
        id: 'dead_mans_switch.incidents',
        label: 'dead_mans_switch_server.incidents.web.nav',
        path: '/web/incidents',
        sequence: 11,
      },
    ],
    // The customer page (core's) shows the customer's escalation policy, editable by managers.
    panels: [
      {
        model: 'partner',
        template: 'dead_mans_switch_server/customer-escalation',
        load: CustomerEscalationPanel,
        sequence: 20,
      },
    ],
    recordPages: { [INSTANCE_MODEL]: '/web/instances/{id}' },
    recordLinks: [
      {
        model: 'partner',
        label: 'dead_mans_switch_server.web.customer_instances',
        path: '/web/instances?partner_id={id}',
      },
    ],
  },
});
