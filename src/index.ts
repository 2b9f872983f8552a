// Core's public entry point: addons import core only from here. It exports services, never a repository or an entity
// of core's tables: addons reach partners, users, settings and the chatter through their services (the boundaries
// test checks it).
export { defineAddon } from './addons/manifest.js';
export type {
  AddonManifest,
  CliCommand,
  CheckResult,
  CheckStatus,
  CheckText,
  EnvironmentCheck,
  EnvironmentCheckContext,
  MigrationClass,
  MigrationContext,
  ScheduledTask,
  SeedData,
  StatisticsProvider,
  StatisticValue,
  SubtypeSeed,
  TaskDeclaration,
} from './addons/manifest.js';
export {
  EXIT_CONFIG,
  RUNNING_ENVS,
  normalizeRunningEnv,
  type AppConfig,
  type RunningEnv,
} from './config/app-config.js';
export { EnvironmentService, type ReportListener } from './environment/environment.service.js';
export {
  EnvironmentRefusal,
  type CheckOutcome,
  type EnvironmentReport,
  type RenderedReport,
  type ReportTrigger,
} from './environment/environment-report.js';
export { VIGIL_VERSION } from './environment/version.js';
export { Database } from './database/database.js';
export { APP_CONFIG } from './config/config.tokens.js';
export {
  AppException,
  badRequest,
  conflict,
  FieldException,
  forbidden,
  notFound,
} from './common/app.exception.js';
export { AppExceptionFilter, type ErrorBody } from './common/exception.filter.js';
export { setHeader, type AnyReply } from './common/http-reply.js';
export {
  Ctx,
  hasRole,
  systemContext,
  type AuthUser,
  type RequestContext,
  type Role,
} from './common/request-context.js';
export { PaginationQueryDto, type Page } from './common/pagination.dto.js';
export { EmailAddress, Name, OptionalText, Text } from './common/validation.js';
export { SecretBox, SecretKeys, SecretOpenError, type KeyPurpose } from './database/secret-keys.js';
export { RequireRole } from './common/auth.decorators.js';
export { I18nService } from './i18n/i18n.service.js';
export { MetricsService } from './monitoring/metrics.service.js';
export { Clock, ManualClock, SystemClock } from './scheduler/clock.js';
export { SchedulerService } from './scheduler/scheduler.service.js';
export { Schedule, ScheduleError } from './scheduler/schedule.js';
export {
  SettingsService,
  DATABASE_UUID,
  SECRET_MASK,
  SecretSettingError,
} from './settings/settings.service.js';
export { SettingsRegistry } from './settings/settings-registry.js';
export { DATABASE_UUID_SETTING } from './settings/core-settings.js';
export {
  defineSetting,
  type SettingDeclaration,
  type SettingType,
  type SettingValue,
  type SettingValueOf,
} from './settings/setting-definition.js';
export { StatisticsService, type Statistics } from './statistics/statistics.service.js';
export { PROJECT_ROOT } from './paths.js';
export { PartnersService, type PartnerReference } from './partners/partners.service.js';
export { UsersService } from './users/users.service.js';
export { ChatterService, type PostMessage } from './mail/chatter/chatter.service.js';
export {
  MT_COMMENT,
  MT_NOTE,
  type ThreadDefinition,
  type ThreadRef,
  type TrackedField,
  type TrackingValueInput,
  type Translatable,
} from './mail/chatter/thread.js';
export { NotificationDispatcher, type DispatchResult } from './mail/notification-dispatcher.js';
export { TemplateRenderer } from './mail/email/template-renderer.js';
export {
  MessageActions,
  type MessageAction,
  type MessageActionContext,
  type MessageActionProvider,
} from './mail/notifications/message-actions.js';
export {
  summary,
  type AlertChannel,
  type ChannelMessage,
  type ChannelRequest,
  type ChannelSettingSpec,
  type RetryPolicy,
} from './mail/channels/alert-channel.js';
export { signWebhook, SIGNATURE_HEADER } from './mail/channels/webhook.channel.js';
export { refusal } from './mail/channels/address-policy.js';
export { AddressResolver } from './mail/channels/address-resolver.repository.js';
export { OutboundHttp } from './mail/channels/outbound-http.repository.js';
export {
  AddressRefusedError,
  type OutboundPolicy,
  type OutboundRequest,
  type OutboundResponse,
} from './mail/channels/outbound-http.js';
export type { RecordPanelLoader, WebDeclaration, WebMenuEntry, WebRecordPanel } from './addons/manifest.js';
export { WebController, WebForm, WebPage, type WebRedirect } from './web/web.decorators.js';
export { WebPageService, timeZoneOf, type WebRequest } from './web/web-page.service.js';
export { WebChatterService } from './web/web-chatter.service.js';
export { WebRenderer } from './web/web-renderer.service.js';
export { WebRecordPanels, type LoadedRecordPanel } from './web/web-record-panels.service.js';
