import { Inject, Injectable } from '@nestjs/common';
import type { ScheduledTask } from '../../src/index.js';
import { CustomerReportService } from './customer-report.service.js';

/** `customer_report.monthly`: sends the previous month's report to each customer's followers once its day came. */
@Injectable()
export class MonthlyReportTask implements ScheduledTask {
  constructor(@Inject(CustomerReportService) private readonly reports: CustomerReportService) {}

  async run(now: Date): Promise<void> {
    await this.reports.sendDue(now);
  }
}
