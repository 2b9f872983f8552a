import { join } from 'node:path';
import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AddonError, type LoadedAddon } from '../addons/addon-loader.js';
import type { AddonManifest } from '../addons/manifest.js';
import { AuthController } from '../auth/auth.controller.js';
import { AuthGuard, SessionCookies } from '../auth/auth.guard.js';
import { AuthService } from '../auth/auth.service.js';
import { LoginAddressLimiter } from '../auth/login-address-limiter.js';
import { LoginAttemptsRepository } from '../auth/login-attempts.repository.js';
import { PUBLIC_ENDPOINTS } from '../common/endpoints.js';
import { AppExceptionFilter } from '../common/exception.filter.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.tokens.js';
import { Database } from '../database/database.js';
import { DatabaseServerRepository } from '../database/database-server.repository.js';
import { SnakeNamingStrategy } from '../database/snake-naming.strategy.js';
import {
  EMBEDDED_DATABASE,
  ENVIRONMENT_CHECKS,
  EnvironmentService,
} from '../environment/environment.service.js';
import { I18N_FOLDERS, I18nService } from '../i18n/i18n.service.js';
import { MetricsService } from '../monitoring/metrics.service.js';
import { MonitoringController } from '../monitoring/monitoring.controller.js';
import { MailModule } from '../mail/mail.module.js';
import { StartupState } from '../monitoring/startup-state.js';
import { PartnersController } from '../partners/partners.controller.js';
import { PartnersRepository } from '../partners/partners.repository.js';
import { PartnersService } from '../partners/partners.service.js';
import { Clock } from '../scheduler/clock.js';
import { SchedulerService, TASK_DECLARATIONS } from '../scheduler/scheduler.service.js';
import { STATISTICS_PROVIDERS, StatisticsService } from '../statistics/statistics.service.js';
import { SettingsController } from '../settings/settings.controller.js';
import { ScheduledTaskRepository } from '../scheduler/scheduled-task.repository.js';
import { TimersRepository } from '../scheduler/timers.repository.js';
import { SettingsRepository } from '../settings/settings.repository.js';
import { SettingDeclarationError, SettingsRegistry } from '../settings/settings-registry.js';
import { SettingsService } from '../settings/settings.service.js';
import { MeController, UsersController } from '../users/users.controller.js';
import { UsersRepository } from '../users/users.repository.js';
import { UsersService } from '../users/users.service.js';
import { WebAdminController } from '../web/web-admin.controller.js';
import { WebAuthController } from '../web/web-auth.controller.js';
import { WebNotFoundController } from '../web/web-not-found.controller.js';
import { WebRootController } from '../web/web-root.controller.js';
import { WebChatterService } from '../web/web-chatter.service.js';
import { WEB_RECORD_LINKS, WebCustomersController } from '../web/web-customers.controller.js';
import { WEB_RECORD_PANELS, WebRecordPanels } from '../web/web-record-panels.service.js';
import { WebExceptionFilter } from '../web/web-exception.filter.js';
import { WebFormStates } from '../web/web-form-state.js';
import { WebInboxController } from '../web/web-inbox.controller.js';
import { WEB_HOME, WEB_MENUS, WEB_RECORD_PAGES, WebPageService } from '../web/web-page.service.js';
import { WebPreferencesController } from '../web/web-preferences.controller.js';
import { CORE_WEB_TEMPLATES, WEB_TEMPLATE_FOLDERS, WebRenderer } from '../web/web-renderer.service.js';
import { WebSessionService } from '../web/web-session.service.js';
import { WebThreadsController } from '../web/web-threads.controller.js';
import { SecretKeys } from '../database/secret-keys.js';
import { SeedRepository } from './seed.repository.js';
import { SeedService } from './seed.service.js';

export interface CoreModuleOptions {
  config: AppConfig;
  databaseUrl: string;
  /** Core's manifest, read like the addons'. */
  core: LoadedAddon;
  addons: LoadedAddon[];
  clock: Clock;
  sessionSecret: string;
  /** Vigil runs its embedded PostgreSQL (no DATABASE_URL). */
  embeddedDatabase: boolean;
}

/** Core's e-mail templates: the layout, the default message template and their partials. */
const SERVICES = [
  Database,
  DatabaseServerRepository,
  I18nService,
  MetricsService,
  StartupState,
  SettingsRepository,
  ScheduledTaskRepository,
  TimersRepository,
  SettingsService,
  UsersRepository,
  UsersService,
  AuthService,
  LoginAttemptsRepository,
  LoginAddressLimiter,
  PartnersRepository,
  PartnersService,
  SchedulerService,
  SeedRepository,
  SeedService,
  StatisticsService,
  EnvironmentService,
  WebSessionService,
  WebRenderer,
  WebPageService,
  WebChatterService,
  WebExceptionFilter,
  WebFormStates,
  WebRecordPanels,
];

/** Every manifest's settings; a key declared twice stops the start like any addon error (exit code 78). */
function settingsRegistry(manifests: AddonManifest[]): SettingsRegistry {
  try {
    return new SettingsRegistry(manifests.map((m) => ({ name: m.name, settings: m.settings })));
  } catch (error) {
    if (error instanceof SettingDeclarationError) throw new AddonError(error.message);
    throw error;
  }
}

/** Core services, global so that every addon module can inject them. */
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    const { config, addons } = options;
    // Core and the addons, core first: what every manifest contributes.
    const manifests = [options.core, ...addons].map((a) => a.manifest);
    const keys = new SecretKeys(options.sessionSecret);
    // Model → web page of one record: the inbox's and the alerts' links.
    const recordPages = Object.assign(
      { partner: '/web/customers/{id}' },
      ...addons.map((a) => a.manifest.web?.recordPages ?? {}),
    ) as Record<string, string>;
    return {
      module: CoreModule,
      global: true,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: options.databaseUrl,
          entities: manifests.flatMap((m) => m.entities),
          namingStrategy: new SnakeNamingStrategy(),
          synchronize: false,
          migrationsRun: false,
          retryAttempts: 3,
          retryDelay: 1000,
          // A request waits at most 5 s for a connection: during an outage it gets a 503 instead of hanging, and
          // waiting requests cannot pile up without bound.
          extra: { max: config.databasePoolSize, connectionTimeoutMillis: 5000 },
        }),
        // Tokens are signed with the 'session' purpose's derived key, never with the master secret itself.
        JwtModule.register({ secret: keys.key('session') }),
        ScheduleModule.forRoot(),
        ThrottlerModule.forRoot([{ name: 'default', ttl: 60_000, limit: 100 }]),
        TerminusModule,
        MailModule.forRoot({
          threads: manifests.flatMap((m) => m.threads ?? []),
          channels: manifests.flatMap((m) => m.channels ?? []),
          templates: addons.flatMap(({ manifest, dir }) =>
            manifest.templates ? [{ namespace: manifest.name, dir: join(dir, manifest.templates) }] : [],
          ),
          recordPages,
        }),
      ],
      controllers: [
        MonitoringController,
        AuthController,
        MeController,
        UsersController,
        PartnersController,
        SettingsController,
        WebAuthController,
        WebRootController,
        WebNotFoundController,
        WebInboxController,
        WebCustomersController,
        WebAdminController,
        WebPreferencesController,
        WebThreadsController,
      ],
      providers: [
        ...SERVICES,
        // Core's task providers, as the loader adds an addon's (addonModule).
        ...(options.core.manifest.tasks ?? []).map((task) => task.provider),
        { provide: APP_CONFIG, useValue: config },
        { provide: Clock, useValue: options.clock },
        {
          provide: STATISTICS_PROVIDERS,
          useValue: manifests.flatMap((m) => m.statistics ?? []),
        },
        {
          provide: TASK_DECLARATIONS,
          useValue: manifests.flatMap((m) => m.tasks ?? []),
        },
        {
          provide: ENVIRONMENT_CHECKS,
          useValue: manifests.flatMap((m) => (m.checks ?? []).map((check) => ({ addon: m.name, check }))),
        },
        { provide: PUBLIC_ENDPOINTS, useValue: manifests.flatMap((m) => m.publicEndpoints ?? []) },
        {
          provide: SettingsRegistry,
          useValue: settingsRegistry(manifests),
        },
        { provide: EMBEDDED_DATABASE, useValue: options.embeddedDatabase },
        { provide: SecretKeys, useValue: keys },
        {
          provide: WEB_MENUS,
          useValue: manifests.flatMap((m) => m.web?.menus ?? []).sort((a, b) => a.sequence - b.sequence),
        },
        {
          provide: WEB_HOME,
          useValue: addons.find((a) => a.manifest.web?.home)?.manifest.web?.home ?? '/web/inbox',
        },
        {
          provide: WEB_RECORD_PAGES,
          useValue: recordPages,
        },
        { provide: WEB_RECORD_LINKS, useValue: addons.flatMap((a) => a.manifest.web?.recordLinks ?? []) },
        {
          provide: WEB_RECORD_PANELS,
          useValue: addons
            .flatMap((a) => a.manifest.web?.panels ?? [])
            .sort((a, b) => a.sequence - b.sequence),
        },
        {
          provide: WEB_TEMPLATE_FOLDERS,
          useValue: [
            CORE_WEB_TEMPLATES,
            ...addons.flatMap(({ manifest, dir }) =>
              manifest.web?.templates
                ? [{ namespace: manifest.name, dir: join(dir, manifest.web.templates) }]
                : [],
            ),
          ],
        },
        { provide: I18N_FOLDERS, useValue: addons.map((a) => join(a.dir, 'i18n')) },
        { provide: SessionCookies, useExisting: WebSessionService },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_FILTER, useClass: AppExceptionFilter },
        AppExceptionFilter,
      ],
      exports: [...SERVICES, MailModule, APP_CONFIG, Clock, AppExceptionFilter, SecretKeys, SettingsRegistry],
    };
  }
}
