import { Body, Inject, Param, ParseIntPipe, Query, Req } from '@nestjs/common';
import { IsString, Matches } from 'class-validator';
import {
  Ctx,
  hasRole,
  I18nService,
  RequireRole,
  WebChatterService,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { BackupConfigsService } from '../backup-configs.service.js';
import { DATABASE_NAME } from '../backup.dto.js';
import { BackupsService } from '../backups.service.js';
import { CONFIG_MODEL } from '../settings.js';

export class RestoreFormDto {
  @IsString()
  @Matches(DATABASE_NAME)
  into: string;
}

/** Backups in the web UI: configurations, their runs, run now (ops), restore (ops). Rules live in the services. */
@WebController('web/backups')
export class BackupsWebController {
  constructor(
    @Inject(BackupConfigsService) private readonly configs: BackupConfigsService,
    @Inject(BackupsService) private readonly backups: BackupsService,
    @Inject(WebChatterService) private readonly chatter: WebChatterService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @WebPage()
  async list(@Ctx() ctx: RequestContext, @Req() request: WebRequest, @Query('restored') restored?: string) {
    const [configs, runs] = await Promise.all([
      this.configs.list(ctx, 200, 0),
      this.backups.list(ctx, { limit: 50, offset: 0 }),
    ]);
    const names = new Map(configs.items.map((c) => [c.id, c.name]));
    return this.pages.render(request, ctx, 'backup/backups', {
      title: this.i18n.t('backup.web.title', ctx.lang),
      configs: configs.items,
      runs: runs.items.map((run) => ({ ...run, configName: names.get(run.config_id) })),
      ops: hasRole(ctx.user, 'ops'),
      restored: typeof restored === 'string' ? restored.slice(0, 63) : undefined,
    });
  }

  @WebPage('configs/:id')
  async config(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
  ) {
    const [config, runs, chatter] = await Promise.all([
      this.configs.get(ctx, id),
      this.backups.list(ctx, { config_id: id, limit: 50, offset: 0 }),
      this.chatter.load(ctx, { model: CONFIG_MODEL, id }),
    ]);
    return this.pages.render(request, ctx, 'backup/config', {
      title: config.name,
      config,
      runs: runs.items.map((run) => ({ ...run, configName: config.name })),
      ops: hasRole(ctx.user, 'ops'),
      chatter,
    });
  }

  @WebForm('configs/:id/run')
  @RequireRole('ops')
  async run(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number): Promise<WebRedirect> {
    await this.configs.run(ctx, id);
    return { url: `/web/backups/configs/${id}` };
  }

  @WebForm(':id/restore')
  @RequireRole('ops')
  async restore(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: RestoreFormDto,
  ): Promise<WebRedirect> {
    const restored = await this.backups.restore(ctx, id, form.into);
    return { url: `/web/backups?restored=${encodeURIComponent(restored.database)}` };
  }
}
