import { defineAddon } from '../../src/index.js';
import { CustomerReportController } from './customer-report.controller.js';
import { CustomerReportRepository } from './customer-report.repository.js';
import { CustomerReportService } from './customer-report.service.js';
import { CustomerReportWebController } from './customer-report-web.controller.js';
import { CustomerReportInit1733600000000 } from './migrations/1733600000000-customer_report-init.js';
import { MonthlyReportTask } from './monthly-report.task.js';
import { REPORT_MODEL, REPORT_SETTINGS, SUBTYPE_MONTHLY_REPORT } from './settings.js';

export const manifest = defineAddon({
  name: 'customer_report',
  version: '1.0.0',
  vigil: '^0.1.0',
  summary:
    "Each customer's monthly report (uptime, outages, maintenance, backups and restore drills): a printable page, and an e-mail to the customer's followers",
  depends: ['dead_mans_switch_server', 'backup'],
  entities: [],
  migrations: [CustomerReportInit1733600000000],
  settings: Object.values(REPORT_SETTINGS),
  seed: {
    subtypes: [
      {
        key: SUBTYPE_MONTHLY_REPORT,
        name: 'customer_report.subtypes.monthly_report',
        default: true,
        internal: false,
        model: REPORT_MODEL,
      },
    ],
  },
  // Hourly: a customer's send day starts at its own midnight, whatever its time zone.
  tasks: [{ id: 'customer_report.monthly', everySeconds: 3600, provider: MonthlyReportTask }],
  templates: 'templates',
  web: {
    templates: 'web/templates',
    recordLinks: [
      {
        model: 'partner',
        label: 'customer_report.web.link',
        path: '/web/customers/{id}/report',
        role: 'viewer',
      },
    ],
  },
  controllers: [CustomerReportController, CustomerReportWebController],
  providers: [CustomerReportRepository, CustomerReportService],
});
