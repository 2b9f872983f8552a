import { Body, Controller, HttpCode, Inject, Post, Req, UseFilters } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Ctx, type RequestContext } from '../../../src/index.js';
import { AliveExceptionFilter } from './alive-exception.filter.js';
import { sourceAddress } from './allowed-sources.js';
import { InstanceEventsService } from '../events/instance-events.service.js';
import { CHECKIN_TOKEN_HEADER, presentedToken } from './checkin-token.js';
import { CheckInService } from './checkin.service.js';
import { InstanceCancelService } from './instance-cancel.service.js';
import { JobRunsService } from '../runs/job-runs.service.js';

/** The check-in token the request carries, if any (`X-Vigil-Token`). */
const tokenOf = (request: FastifyRequest) =>
  presentedToken(request.headers[CHECKIN_TOKEN_HEADER.toLowerCase()]);

const TOKEN_NOTE =
  ` An instance given a check-in token (\`POST /api/v1/dead_mans_switch/instances/:id/token\`) must send it in ` +
  `the \`${CHECKIN_TOKEN_HEADER}\` header: 401 otherwise, nothing recorded.`;

// Its routes are public (no authentication): the manifest declares them, with their body limit.
@ApiTags('dead_mans_switch')
@Controller('dead_mans_switch')
@UseFilters(AliveExceptionFilter)
export class AliveController {
  constructor(
    @Inject(CheckInService) private readonly checkIns: CheckInService,
    @Inject(InstanceCancelService) private readonly cancels: InstanceCancelService,
    @Inject(InstanceEventsService) private readonly events: InstanceEventsService,
    @Inject(JobRunsService) private readonly runs: JobRunsService,
  ) {}

  @Post('alive')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Check in (no authentication)',
    description:
      'Odoo JSON-RPC `{"jsonrpc": "2.0", "method": "call", "params": {"database_uuid": …}}` or the same keys as ' +
      "plain JSON. Unknown uuids register a new instance. Optional `next_in` (seconds): this check-in's delay " +
      'instead of `alive_max_delay` (bounded by `dead_mans_switch.next_in_min_seconds`/`_max_seconds`).' +
      TOKEN_NOTE,
  })
  @ApiBody({ schema: { type: 'object' } })
  alive(@Ctx() ctx: RequestContext, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.checkIns.receive(ctx, body, sourceAddress(request.ip), tokenOf(request));
  }

  @Post('cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The instance cancels itself (no authentication)',
    description:
      '`{"database_uuid": …}`, JSON-RPC or plain JSON: the instance is suspended and alerts no one; later ' +
      'check-ins are logged but do not reactivate it (a manager does). Unknown uuid: 404.' +
      TOKEN_NOTE,
  })
  @ApiBody({ schema: { type: 'object' } })
  cancel(@Ctx() ctx: RequestContext, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.cancels.cancel(ctx, body, tokenOf(request));
  }

  @Post('event')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The instance reports an event (no authentication)',
    description:
      '`{"database_uuid": …, "level": "debug|info|warning|error|critical", "message": …}`, JSON-RPC or plain ' +
      'JSON. Stored with the server time; from `dead_mans_switch.event_alert_level` up, posted to followers.' +
      TOKEN_NOTE,
  })
  @ApiBody({ schema: { type: 'object' } })
  event(@Ctx() ctx: RequestContext, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.events.receive(ctx, body, sourceAddress(request.ip), tokenOf(request));
  }

  @Post('start')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A job run starts (no authentication)',
    description:
      '`{"database_uuid": …}`, JSON-RPC or plain JSON: a run of the job the instance stands for began; the next ' +
      "check-in (`alive`) ends it and its duration is recorded. A run that does not end within the instance's " +
      '`run_timeout` makes it down; one outside `run_min_seconds`..`run_max_seconds` posts an alert event. ' +
      'Optional: clients that never send it are timed by their check-ins alone.' +
      TOKEN_NOTE,
  })
  @ApiBody({ schema: { type: 'object' } })
  start(@Ctx() ctx: RequestContext, @Body() body: unknown, @Req() request: FastifyRequest) {
    return this.runs.start(ctx, body, sourceAddress(request.ip), tokenOf(request));
  }
}
