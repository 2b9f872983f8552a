import { defineSetting } from '../../src/index.js';

export const REPORT_MODEL = 'partner';
/** Followers of a customer with this subtype receive its monthly report. */
export const SUBTYPE_MONTHLY_REPORT = 'customer_report.mt_monthly_report';

/** The addon's system parameters (the manifest registers them). */
export const REPORT_SETTINGS = {
  /** Whether the scheduled task sends the previous month's report to each customer's followers. */
  monthlyEnabled: defineSetting.boolean({
    key: 'customer_report.monthly_enabled',
    default: true,
    description: 'customer_report.settings.monthly_enabled',
  }),
  /** Day of the month (in the customer's time zone) from which the previous month's report is sent. */
  sendDay: defineSetting.integer({
    key: 'customer_report.send_day',
    default: 1,
    min: 1,
    max: 28,
    description: 'customer_report.settings.send_day',
  }),
};

/** A missed send (the server was down on the day) is made up for this many days after the send day, no later. */
export const CATCH_UP_DAYS = 3;
