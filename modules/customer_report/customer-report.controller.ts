import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseIntPipe,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Ctx, RequireRole, type RequestContext } from '../../src/index.js';
import { CustomerReportService, reportJson } from './customer-report.service.js';
import { ReportMonthQueryDto, UpdateReportSettingsDto } from './customer-report.dto.js';

/** A customer's monthly report: its figures, its settings, and sending it to the customer's followers. */
@ApiTags('customer_report')
@ApiBearerAuth()
@Controller('api/v1/customer_report/customers')
export class CustomerReportController {
  constructor(@Inject(CustomerReportService) private readonly reports: CustomerReportService) {}

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({ summary: "The month's figures: uptime, outages, maintenance, backups and drills" })
  async get(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Query() query: ReportMonthQueryDto,
  ) {
    return reportJson(await this.reports.report(ctx, id, query.month));
  }

  @Post(':id/send')
  @RequireRole('manager')
  @HttpCode(200)
  @ApiOperation({ summary: "Sends (again) the month's report to the customer's followers" })
  send(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Query() query: ReportMonthQueryDto,
  ) {
    return this.reports.send(ctx, id, query.month);
  }

  @Get(':id/settings')
  @RequireRole('viewer')
  @ApiOperation({ summary: "The report's time zone and backup configurations" })
  settings(@Ctx() ctx: RequestContext, @Param('id', ParseIntPipe) id: number) {
    return this.reports.getSettings(ctx, id);
  }

  @Put(':id/settings')
  @RequireRole('manager')
  @ApiOperation({ summary: "Sets the report's time zone and backup configurations" })
  update(
    @Ctx() ctx: RequestContext,
    @Param('id', ParseIntPipe) id: number,
    @Body() body: UpdateReportSettingsDto,
  ) {
    return this.reports.updateSettings(ctx, id, body);
  }
}
