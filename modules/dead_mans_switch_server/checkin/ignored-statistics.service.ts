import { Inject, Injectable, Logger } from '@nestjs/common';
import { Database, I18nService } from '../../../src/index.js';
import { EVENT_LEVELS } from '../instance-event.entity.js';
import { InstanceEventsRepository } from '../events/instance-events.repository.js';
import type { IgnoredStatistic } from './alive-payload.js';
import { IgnoredStatisticsRepository } from './ignored-statistics.repository.js';

export interface IgnoredStatisticResponse {
  field: string;
  /** The last value sent, as JSON (at most 100 characters). */
  value: string;
  /** Why it was not stored, in the caller's language. */
  message: string;
  count: number;
  first_at: string;
  last_at: string;
}

/** Events are stored text, read by everyone: written in the default language. */
const EVENT_LANG = 'en';

/**
 * Flags the statistics check-ins carried but that were not stored as sent: counted per instance and statistic
 * (shown on the instance), and the first time for a statistic, a warning event on the instance.
 */
@Injectable()
export class IgnoredStatisticsService {
  private readonly logger = new Logger('dead_mans_switch_server');

  constructor(
    @Inject(IgnoredStatisticsRepository) private readonly ignoredStatistics: IgnoredStatisticsRepository,
    @Inject(InstanceEventsRepository) private readonly events: InstanceEventsRepository,
    @Inject(I18nService) private readonly i18n: I18nService,
    @Inject(Database) private readonly database: Database,
  ) {}

  /** Never fails the check-in it comes from (which is already stored): a failure is logged. */
  async flag(instanceId: number, ignored: IgnoredStatistic[], now: Date): Promise<void> {
    if (!ignored.length) return;
    try {
      await this.database.transaction(async (manager) => {
        const first = await this.ignoredStatistics.record(instanceId, ignored, now, manager);
        for (const statistic of first) {
          const message = this.i18n.t('dead_mans_switch_server.ignored.event', EVENT_LANG, {
            field: statistic.field,
            value: statistic.value,
            reason: this.i18n.t(statistic.key, EVENT_LANG, statistic.args),
          });
          await this.events.insert(
            { instanceId, receivedAt: now, level: EVENT_LEVELS.warning, message },
            manager,
          );
        }
      });
    } catch (error) {
      this.logger.warn(
        `Could not flag the ignored statistics of instance ${instanceId}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The reason each ignored statistic of a check-in is not stored as sent, in `lang` (for the reply). */
  describe(ignored: IgnoredStatistic[], lang: string): { field: string; message: string }[] {
    return ignored.map((i) => ({ field: i.field, message: this.i18n.t(i.key, lang, i.args) }));
  }

  async list(instanceId: number, lang: string): Promise<IgnoredStatisticResponse[]> {
    return (await this.ignoredStatistics.list(instanceId)).map((row) => ({
      field: row.field,
      value: row.last_value,
      message: this.i18n.t(row.reason, lang, row.args),
      count: row.count,
      first_at: row.first_at.toISOString(),
      last_at: row.last_at.toISOString(),
    }));
  }
}
