import { Body, Inject, Param, ParseIntPipe, Req } from '@nestjs/common';
import {
  AppException,
  Ctx,
  FieldException,
  I18nService,
  notFound,
  RequireRole,
  WebController,
  WebForm,
  WebPage,
  WebPageService,
  type RequestContext,
  type WebRedirect,
  type WebRequest,
} from '../../../src/index.js';
import { InstancesService } from '../../dead_mans_switch_server/instances/instances.service.js';
import { ProbeFormDto, probeFromForm, probeUpdateFromForm } from '../probe-form.dto.js';
import { HTTP_METHODS, type ProbeResponse } from '../probe.dto.js';
import { ProbesService } from '../probes.service.js';

const PROBE_ERRORS = 'dead_mans_switch_server.probes.errors';
/** The probe service's refusals that concern one field: shown next to it rather than above the form. */
const PROBE_ERROR_FIELDS: Record<string, string | ((kind: string) => string)> = {
  [`${PROBE_ERRORS}.url`]: 'url',
  [`${PROBE_ERRORS}.status_range`]: 'expect_status_max',
  [`${PROBE_ERRORS}.nothing_to_check`]: 'processes',
  [`${PROBE_ERRORS}.address_refused`]: (kind) => (kind === 'http' ? 'url' : 'host'),
  [`${PROBE_ERRORS}.one_secret`]: 'credential_env',
  [`${PROBE_ERRORS}.secret_env_prefix`]: 'credential_env',
  [`${PROBE_ERRORS}.tls_ca_not_https`]: 'tls_ca',
  [`${PROBE_ERRORS}.tls_ca_format`]: 'tls_ca',
  [`${PROBE_ERRORS}.tls_ca_invalid`]: 'tls_ca',
};

/** A probe as its edit form shows it: the checkbox's value, processes one per line, where the secret comes from. */
function probeView(probe: ProbeResponse) {
  return {
    ...probe,
    activeValue: probe.active ? '1' : '0',
    processesText: probe.processes?.join('\n'),
    auth: probe.private_key_env || probe.has_private_key ? 'key' : 'password',
    credential_env: probe.password_env ?? probe.private_key_env ?? undefined,
    stored_secret: probe.has_password || probe.has_private_key,
  };
}

/** Runs a probe change; a refusal about one field becomes that field's error (same status and message). */
async function probeFieldErrors<T>(kind: string, change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (!(error instanceof AppException) || error instanceof FieldException) throw error;
    const target = PROBE_ERROR_FIELDS[error.key];
    const field =
      error.key === `${PROBE_ERRORS}.required` && typeof error.args.field === 'string'
        ? error.args.field
        : typeof target === 'function'
          ? target(kind)
          : target;
    if (!field) throw error;
    throw new FieldException(field, error.key, error.args, error.getStatus());
  }
}

/** The probes of an instance in the web UI: added from its page (the probes panel), edited and deleted. */
@WebController('web/instances')
export class ProbesWebController {
  constructor(
    @Inject(ProbesService) private readonly probes: ProbesService,
    @Inject(InstancesService) private readonly instances: InstancesService,
    @Inject(WebPageService) private readonly pages: WebPageService,
    @Inject(I18nService) private readonly i18n: I18nService,
  ) {}

  @WebForm(':id/probes')
  @RequireRole('manager')
  async addProbe(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() form: ProbeFormDto,
  ): Promise<WebRedirect> {
    const kind = form.kind;
    if (!kind) throw new FieldException('kind', 'dead_mans_switch_server.web.required', {}, 400);
    await probeFieldErrors(kind, () => this.probes.create(ctx, id, probeFromForm({ ...form, kind })));
    return { url: `/web/instances/${id}#instance-probes` };
  }

  @WebPage(':id/probes/:probeId')
  @RequireRole('manager')
  async probePage(
    @Ctx() ctx: RequestContext,
    @Req() request: WebRequest,
    @Param('id', ParseIntPipe) id: number,
    @Param('probeId', ParseIntPipe) probeId: number,
  ) {
    const [instance, probe] = await Promise.all([this.instances.get(ctx, id), this.probe(ctx, id, probeId)]);
    return this.pages.render(request, ctx, 'dead_mans_switch_probes/probe', {
      title: this.i18n.t('dead_mans_switch_server.probes.web.edit_title', ctx.lang, { name: probe.name }),
      instance,
      probe: probeView(probe),
      httpMethods: HTTP_METHODS,
    });
  }

  @WebForm(':id/probes/:probeId')
  @RequireRole('manager')
  async updateProbe(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Param('probeId', ParseIntPipe) probeId: number,
    @Body() form: ProbeFormDto,
  ): Promise<WebRedirect> {
    const probe = await this.probe(ctx, id, probeId);
    await probeFieldErrors(probe.kind, () =>
      this.probes.update(ctx, probeId, probeUpdateFromForm(probe.kind, form)),
    );
    return { url: `/web/instances/${id}#instance-probes` };
  }

  @WebForm(':id/probes/:probeId/delete')
  @RequireRole('manager')
  async deleteProbe(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Param('probeId', ParseIntPipe) probeId: number,
  ): Promise<WebRedirect> {
    await this.probes.deleteFromInstance(ctx, id, probeId);
    return { url: `/web/instances/${id}#instance-probes` };
  }

  /** A probe of this instance (the page's address names both). */
  private async probe(ctx: RequestContext, instanceId: number, probeId: number) {
    const probe = await this.probes.get(ctx, probeId);
    if (probe.instance_id !== instanceId) throw notFound('dead_mans_switch.probe', probeId);
    return probe;
  }
}
