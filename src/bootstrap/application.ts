import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type INestApplication, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import {
  DEFAULT_ADDON_PATHS,
  addonModules,
  discoverAddons,
  resolveAddons,
  type LoadedAddon,
} from '../addons/addon-loader.js';
import type { AppConfig } from '../config/app-config.js';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../database/embedded-database.js';
import { MigrationsRepository } from '../database/migrations.repository.js';
import { SecretKeys } from '../database/secret-keys.js';
import { EnvironmentRefusal, type EnvironmentReport } from '../environment/environment-report.js';
import { EnvironmentService } from '../environment/environment.service.js';
import { I18nService } from '../i18n/i18n.service.js';
import { validationPipe } from '../common/validation.js';
import { MetricsService } from '../monitoring/metrics.service.js';
import { observeRequests, requestId } from '../monitoring/request-observer.js';
import { StartupState } from '../monitoring/startup-state.js';
import { Clock, SystemClock } from '../scheduler/clock.js';
import { SchedulerService } from '../scheduler/scheduler.service.js';
import { UsersService } from '../users/users.service.js';
import { CORE } from './core-manifest.js';
import { webAssets, webSecurityHeaders } from '../web/web-assets.js';
import { bodyParsers, useBodyParsers } from './body-parsers.js';
import { createRootLogger, PinoNestLogger } from './logger.js';
import { CoreModule } from './core.module.js';
import { SeedService } from './seed.service.js';

export interface StartOptions {
  config: AppConfig;
  clock?: Clock;
  /** Serve HTTP on config.port (the server) or not (the CLI). */
  listen?: boolean;
  /** Host to listen on. */
  host?: string;
  /** Run scheduled tasks on their timers. */
  scheduler?: boolean;
  /**
   * Run the environment checks before serving, and refuse to start on a `fail` unless CLOUD_PLATFORM_UNSAFE
   * (default true). The CLI skips them: its commands are how some failures get fixed.
   */
  environmentChecks?: boolean;
  /** Where log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
}

/** A route the HTTP server serves. */
export interface HttpRoute {
  method: string;
  /** The pattern, as Fastify matches it (`/api/v1/partners/:id`). */
  path: string;
}

export interface Vigil {
  app: INestApplication;
  /** Every route the HTTP server has, as it was registered (the route × role test walks them). */
  routes: readonly HttpRoute[];
  addons: LoadedAddon[];
  databaseUrl: string;
  /** The base URL when listening. */
  url?: string;
  /** Migrations this start applied (`<addon>/<class>`). */
  migrationsRan: string[];
  /** The first administrator's credentials when this start created it (the password only when generated). */
  createdAdmin?: { email: string; password?: string };
  /** The start-up's environment report, when the checks ran. */
  environmentReport?: EnvironmentReport;
  close(): Promise<void>;
}

@Module({})
class AppModule {
  static forRoot(core: DynamicModule, addons: LoadedAddon[]): DynamicModule {
    return { module: AppModule, imports: [core, ...addonModules(addons)] };
  }
}

async function sessionSecret(config: AppConfig): Promise<string> {
  if (config.sessionSecret) return config.sessionSecret;
  const file = join(config.dataDir, 'session-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(48).toString('base64url');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

/** The database to use: DATABASE_URL, or the embedded server under DATA_DIR. */
async function openDatabase(config: AppConfig): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedDatabase({ dataDir: config.dataDir });
  return { url: embedded.url, embedded };
}

/** Loads the addons and brings the database schema up to date. */
export async function prepareDatabase(config: AppConfig, url: string) {
  const paths = [...DEFAULT_ADDON_PATHS, ...config.addonsPath];
  const addons = resolveAddons(await discoverAddons(paths), config.addons, CORE.manifest);
  const dataSource = new DataSource({ type: 'postgres', url });
  await dataSource.initialize();
  try {
    const ran = await new MigrationsRepository(dataSource).runPending(
      [CORE, ...addons].map(({ manifest }) => ({ addon: manifest.name, migrations: manifest.migrations })),
      // Migrations that seal values stored in clear use the keys the application will use.
      { secretKeys: async () => new SecretKeys(await sessionSecret(config)) },
    );
    return { addons, ran };
  } finally {
    await dataSource.destroy();
  }
}

/** Starts Vigil: database, addons, migrations, seed data, the Nest application, then the scheduler and HTTP. */
export async function startVigil(options: StartOptions): Promise<Vigil> {
  const { config } = options;
  const database = await openDatabase(config);
  try {
    const { addons, ran } = await prepareDatabase(config, database.url);
    const core = CoreModule.forRoot({
      config,
      databaseUrl: database.url,
      core: CORE,
      addons,
      clock: options.clock ?? new SystemClock(),
      sessionSecret: await sessionSecret(config),
      embeddedDatabase: database.embedded !== undefined,
    });
    const logger = createRootLogger(config, options.logDestination);
    const adapter = new FastifyAdapter({
      // The caller's X-Request-Id when well-formed, else a fresh UUID: `request.id`.
      genReqId: requestId,
      // TRUST_PROXY: the one proxy in front (its X-Forwarded-For hop), as Express's `trust proxy` 1.
      trustProxy: config.trustProxy ? (_address: string, hop: number) => hop < 1 : false,
      // As Express matched: case-insensitive, with or without a trailing slash.
      routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
      // While stopping, a request already on an open connection is served (and its connection then closed), as
      // Node's server did under Express: a check-in in flight during a rolling restart is not refused with 503.
      return503OnClosing: false,
    });
    const fastify = adapter.getInstance();
    const routes: HttpRoute[] = [];
    fastify.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ method, path: route.url });
    });
    // Before Nest's middleware (which @fastify/middie runs in a later request hook): the check-in defences end
    // some requests there, and those are timed and carry their id too.
    observeRequests(fastify, {
      logger,
      everyRequest: config.runningEnv === 'dev',
      // Asked on the first request, when the application exists.
      httpDuration: () => app.get(MetricsService).httpDuration,
    });
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(core, addons), adapter, {
      bufferLogs: true,
      abortOnError: false,
      bodyParser: false,
    });
    app.useLogger(new PinoNestLogger(logger));
    app.use('/web', webSecurityHeaders(config));
    await webAssets(fastify);
    useBodyParsers(fastify, bodyParsers(addons));
    app.useGlobalPipes(validationPipe());
    // Built on the first request for it: most processes never serve it, and it is large.
    SwaggerModule.setup('api/docs', app, () =>
      SwaggerModule.createDocument(
        app,
        new DocumentBuilder().setTitle('Vigil').setVersion('1').addBearerAuth().build(),
      ),
    );
    await app.init();

    // After the database connection, before seeding and listening: every check runs, every failure is listed,
    // and a fail stops the start (before a first administrator is created with a password nobody saw).
    let environmentReport: EnvironmentReport | undefined;
    if (options.environmentChecks !== false) {
      const environment = app.get(EnvironmentService);
      environmentReport = await environment.run('startup');
      if (!environmentReport.ok && !environmentReport.unsafe) {
        const text = [
          environment.formatTable(environmentReport, 'en', false),
          app.get(I18nService).t('environment.refused', 'en'),
        ].join('\n');
        await app.close();
        throw new EnvironmentRefusal(environmentReport, text);
      }
    }
    let createdAdmin: Vigil['createdAdmin'];
    await app.get(SeedService).seed([CORE, ...addons], async () => {
      createdAdmin = await app.get(UsersService).ensureFirstAdmin();
    });
    app.get(StartupState).started = true;
    if (options.scheduler !== false) app.get(SchedulerService).start();

    let url: string | undefined;
    if (options.listen) {
      const host = options.host ?? '0.0.0.0';
      await app.listen(config.port, host);
      const address = app.getHttpServer().address() as { port: number };
      url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${address.port}`;
    }
    // One line per addon instead of Nest's line per route (those are at debug level), then the start itself:
    // only now, after the environment checks that may refuse it.
    // A server's lines only: CLI commands print their answer and nothing after it.
    if (options.listen)
      for (const { manifest } of [CORE, ...addons])
        logger.info(
          { context: 'Addons', addon: manifest.name, version: manifest.version },
          `${manifest.name} ${manifest.version} loaded${manifest.summary ? `: ${manifest.summary}` : ''}`,
        );
    if (options.listen) logger.info({ context: 'NestApplication' }, 'Nest application successfully started');
    let closed = false;
    return {
      app,
      routes,
      addons,
      databaseUrl: database.url,
      url,
      migrationsRan: ran,
      createdAdmin,
      environmentReport,
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
        await database.embedded?.stop();
      },
    };
  } catch (error) {
    await database.embedded?.stop();
    throw error;
  }
}
