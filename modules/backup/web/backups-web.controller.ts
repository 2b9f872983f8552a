import { Body, Get, Inject, Param, ParseIntPipe, Query, Req } from '@nestjs/common';
import {
  Ctx,
  hasRole,
  I18nService,
  RequireRole,
  UsersService,
  WebChatterService,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  WebRenderer,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import type { BackupConfigResponse } from '../backup-config.dto.js';
import { BackupConfigsService } from '../backup-configs.service.js';
import { BackupDrills, type DrillRecord } from '../backup-drills.service.js';
import type { BackupResponse } from '../backup.dto.js';
import type { BackupRestore } from '../backup-restore.entity.js';
import { BackupsService } from '../backups.service.js';
import { downloadResponse } from '../content-disposition.js';
import { CONFIG_MODEL, FORMATS, STORAGES, VERIFY_LEVELS } from '../settings.js';
import { BackFormDto, ConfigFormDto, RestoreFormDto, RunsQueryDto } from './backup-web.dto.js';
import { humanDuration, humanSize } from './human.js';

/** How many runs and restores a page shows. */
const PAGE_SIZE = 50;

/** How many drills a configuration's page lists. */
const DRILLS_SHOWN = 10;

/** The polling of the runs table while a backup runs (htmx `every …`). */
export const RUNS_POLL = '2s';

/**
 * Backups in the web UI: configurations (managers create, edit and delete them), their runs with live progress,
 * run now, verify, download and restore (ops), delete a backup (managers), the restored databases. What a role
 * cannot do is not shown, and the services and role guards refuse it anyway.
 */
@WebController('web/backups')
export class BackupsWebController {
  constructor(
    @Inject(BackupConfigsService) private readonly configs: BackupConfigsService,
    @Inject(BackupsService) private readonly backups: BackupsService,
    @Inject(BackupDrills) private readonly drills: BackupDrills,
    @Inject(UsersService) private readonly users: UsersService,
    @Inject(WebChatterService) private readonly chatter: WebChatterService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(WebRenderer) private readonly renderer: WebRenderer,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async list(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Query() notice: Record<string, string | undefined>,
  ) {
    const [configs, runs, restores] = await Promise.all([
      this.configs.list(ctx, 200, 0),
      this.runs(ctx, undefined),
      this.backups.restores(ctx, undefined, PAGE_SIZE, 0),
    ]);
    return this.pages.render(request, ctx, 'backup/backups', {
      title: this.i18n.t('backup.web.title', ctx.lang),
      configs: configs.items.map((config) => this.configView(config)),
      ...runs,
      restores: restores.items.map((r) => this.restoreView(r)),
      notice: this.notice(ctx, notice),
      back: '/web/backups',
      restoreChoice: restoreChoice(notice.restore),
    });
  }

  /** The runs table alone: htmx asks for it every 2 s while a backup runs; without a running one it stops. */
  @WebPage('runs')
  async runsFragment(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query() query: RunsQueryDto) {
    const configId = query.config_id ?? undefined;
    return this.renderer.render(
      'backup/runs-fragment',
      {
        ...(await this.runs(ctx, configId)),
        back: configId ? `/web/backups/configs/${configId}` : '/web/backups',
        csrf: this.pages.csrf(request),
        me: { manager: hasRole(ctx.user, 'manager'), ops: hasRole(ctx.user, 'ops') },
      },
      this.pages.data(request),
      false,
    );
  }

  @WebPage('configs/new')
  @RequireRole('manager')
  async newConfig(@Ctx() ctx: RequestContext, @Req() request: WebRequest) {
    return this.pages.render(request, ctx, 'backup/config-new', {
      title: this.i18n.t('backup.web.new_config', ctx.lang),
      values: {
        name: '',
        database_url: '',
        cron: '0 3 * * *',
        time_zone: 'UTC',
        storage: 'local',
        prefix: '',
        encryption_env: 'BACKUP_PASSPHRASE',
        verify_level: 'list',
        format: 'dump',
        filestore: '',
        drill_cron: '',
        active: true,
        user_id: ctx.user?.id,
      },
      ...(await this.formChoices(ctx)),
    });
  }

  @WebForm('configs')
  @RequireRole('manager')
  async create(@Ctx() ctx: RequestContext, @Body() form: ConfigFormDto): Promise<WebRedirect> {
    const created = await this.configs.create(ctx, configFields(form));
    return { url: `/web/backups/configs/${created.id}` };
  }

  @WebPage('configs/:id')
  async config(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
    @Query() notice: Record<string, string | undefined>,
  ) {
    const [config, runs, restores, chatter, choices, drills] = await Promise.all([
      this.configs.get(ctx, id),
      this.runs(ctx, id),
      this.backups.restores(ctx, id, PAGE_SIZE, 0),
      this.chatter.load(ctx, { model: CONFIG_MODEL, id }),
      hasRole(ctx.user, 'manager') ? this.formChoices(ctx) : Promise.resolve({}),
      this.drills.history(id, DRILLS_SHOWN),
    ]);
    return this.pages.render(request, ctx, 'backup/config', {
      title: config.name,
      config: this.configView(config),
      values: {
        ...config,
        database_url: config.database_url ?? '',
        filestore: config.filestore ?? '',
        drill_cron: config.drill_cron ?? '',
      },
      drills: drills.map((d) => this.drillView(ctx, d)),
      ...choices,
      ...runs,
      restores: restores.items.map((r) => this.restoreView(r)),
      notice: this.notice(ctx, notice),
      back: `/web/backups/configs/${id}`,
      restoreChoice: restoreChoice(notice.restore),
      chatter,
    });
  }

  @WebForm('configs/:id')
  @RequireRole('manager')
  async update(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: ConfigFormDto,
  ): Promise<WebRedirect> {
    await this.configs.update(ctx, id, configFields(form));
    return { url: `/web/backups/configs/${id}?saved=1` };
  }

  @WebForm('configs/:id/delete')
  @RequireRole('manager')
  async remove(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.configs.remove(ctx, id);
    return { url: '/web/backups?config_deleted=1' };
  }

  @WebForm('configs/:id/run')
  @RequireRole('ops')
  async run(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.configs.run(ctx, id);
    return { url: `/web/backups/configs/${id}` };
  }

  /** A restore drill now (ops); the page shows its result in the drill history and the chatter. */
  @WebForm('configs/:id/drill')
  @RequireRole('ops')
  async drill(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.configs.get(ctx, id);
    const result = await this.drills.drillNow(id);
    return {
      url: `/web/backups/configs/${id}?${result?.status === 'done' ? 'drilled' : 'drill_failed'}=1#drills`,
    };
  }

  /** The stored file, as the API's download (ops and admins: a dump holds every secret of its database). */
  @Get(':id/download')
  @RequireRole('ops')
  async download(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return downloadResponse(await this.backups.download(ctx, id));
  }

  @WebForm(':id/verify')
  @RequireRole('ops')
  async verify(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: BackFormDto,
  ): Promise<WebRedirect> {
    const verified = await this.backups.verify(ctx, id);
    const outcome = verified.status === 'done' ? 'verified' : 'verify_failed';
    return { url: `${form.back ?? '/web/backups'}?${outcome}=${id}` };
  }

  @WebForm(':id/delete')
  @RequireRole('manager')
  async removeBackup(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: BackFormDto,
  ): Promise<WebRedirect> {
    await this.backups.remove(ctx, id);
    return { url: `${form.back ?? '/web/backups'}?deleted=${id}` };
  }

  @WebForm('restore')
  @RequireRole('ops')
  async restore(@Ctx() ctx: RequestContext, @Body() form: RestoreFormDto): Promise<WebRedirect> {
    const restored = await this.backups.restore(ctx, form.backup_id, form.into);
    return {
      url: `${form.back ?? '/web/backups'}?restored=${encodeURIComponent(restored.database)}#restores`,
    };
  }

  /** Runs of one configuration (or all), with live figures for the running ones. */
  private async runs(ctx: RequestContext, configId: number | undefined) {
    const [runs, configs] = await Promise.all([
      this.backups.list(ctx, { config_id: configId, limit: PAGE_SIZE, offset: 0 }),
      this.configs.list(ctx, 200, 0),
    ]);
    const names = new Map(configs.items.map((c) => [c.id, c.name]));
    const running = runs.items.filter((r) => r.status === 'running');
    const expected = running.length
      ? await this.backups.lastSizes(
          ctx,
          running.map((r) => r.config_id),
        )
      : new Map<number, number>();
    const now = Date.now();
    const views = runs.items.map((run) => this.runView(ctx, run, names.get(run.config_id), expected, now));
    return {
      runs: views,
      // The restore form offers the backups whose object is stored.
      restorable: views.filter((r) => r.stored),
      polling: running.length > 0,
      pollUrl: `/web/backups/runs${configId ? `?config_id=${configId}` : ''}`,
      pollEvery: RUNS_POLL,
      showConfig: configId === undefined,
    };
  }

  private runView(
    ctx: RequestContext,
    run: BackupResponse,
    configName: string | undefined,
    expected: Map<number, number>,
    now: number,
  ) {
    const lang = ctx.lang;
    const base = {
      ...run,
      configName: configName ?? `#${run.config_id}`,
      stored: run.status === 'done' && !run.deleted_at,
      sizeText: run.size === null ? undefined : humanSize(run.size, lang),
      durationText: run.duration_ms === null ? undefined : humanDuration(run.duration_ms, lang),
    };
    if (run.status !== 'running') return base;
    // A running backup is measured against the last successful one of its configuration (when there is one).
    const total = expected.get(run.config_id);
    const percent =
      total && run.progress_bytes ? Math.min(99, Math.floor((run.progress_bytes / total) * 100)) : undefined;
    return {
      ...base,
      phase: run.progress_bytes > 0 ? 'dumping' : 'starting',
      progressText: humanSize(run.progress_bytes, lang),
      expectedText: total ? humanSize(total, lang) : undefined,
      percent,
      elapsedText: humanDuration(now - new Date(run.started_at).getTime(), lang),
    };
  }

  private drillView(ctx: RequestContext, drill: DrillRecord) {
    return {
      ...drill,
      secondsText:
        drill.restoreSeconds === null
          ? undefined
          : humanDuration(Math.round(drill.restoreSeconds * 1000), ctx.lang),
    };
  }

  private configView(config: BackupConfigResponse) {
    return { ...config, own: config.database_url === null };
  }

  private restoreView(restore: BackupRestore) {
    return { ...restore, cli: !restore.restoredBy };
  }

  /** What the configuration form offers: storages, verification levels, time zones and responsible users. */
  private async formChoices(ctx: RequestContext) {
    const users = await this.users.list(ctx, 500, 0);
    return {
      storages: STORAGES,
      verifyLevels: VERIFY_LEVELS,
      formats: FORMATS,
      timeZones: Intl.supportedValuesOf('timeZone'),
      users: users.items.filter((u) => u.active).map((u) => ({ id: u.id, name: u.name || u.email })),
      keeps: ['keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly'],
    };
  }

  /** The line a finished action leaves on the page it returns to (post/redirect/get). */
  private notice(ctx: RequestContext, query: Record<string, string | undefined>): string | undefined {
    const id = (value: string | undefined) => (value && /^\d{1,12}$/.test(value) ? value : undefined);
    const t = (key: string, args: Record<string, string> = {}) =>
      this.i18n.t(`backup.web.notices.${key}`, ctx.lang, args);
    if (query.restored && /^[a-z_][a-z0-9_]{0,62}$/.test(query.restored))
      return t('restored', { name: query.restored });
    if (id(query.verified)) return t('verified', { id: query.verified! });
    if (id(query.verify_failed)) return t('verify_failed', { id: query.verify_failed! });
    if (id(query.deleted)) return t('deleted', { id: query.deleted! });
    if (query.saved) return t('saved');
    if (query.config_deleted) return t('config_deleted');
    if (query.drilled) return t('drilled');
    if (query.drill_failed) return t('drill_failed');
    return undefined;
  }
}

/** The backup a "Restore…" link chose for the restore form. */
function restoreChoice(value: string | undefined): number | undefined {
  return value && /^\d{1,12}$/.test(value) ? Number(value) : undefined;
}

/** The form's fields as the service takes them: the password typed apart goes into the database URL. */
function configFields(form: ConfigFormDto) {
  const { database_password: password, ...fields } = form;
  let databaseUrl = fields.database_url ?? null;
  if (databaseUrl && password) {
    try {
      const url = new URL(databaseUrl);
      url.password = password;
      databaseUrl = url.toString();
    } catch {
      // Not a URL: the service refuses it next to the field.
    }
  }
  return {
    ...fields,
    database_url: databaseUrl,
    filestore: fields.filestore ?? null,
    drill_cron: fields.drill_cron ?? null,
    active: form.active ?? false,
  };
}
