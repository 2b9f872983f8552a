import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ChatterService,
  Database,
  NotificationDispatcher,
  SettingsService,
  systemContext,
} from '../../../src/index.js';
import { instanceDisplayNames } from '../instance-names.repository.js';
import { DMS_SETTINGS, INSTANCE_MODEL, SUBTYPE_DOWN } from '../settings.js';
import { StormRepository, type PendingStorm } from './storm.repository.js';
import { HEARTBEAT, IncidentsRepository } from '../incidents/incidents.repository.js';

/** A down storm not told by the pass that opened it (it crashed) is told by a later pass after this long. */
const ORPHAN_AFTER_MS = 5 * 60_000;

/**
 * The storm breaker: when one watchdog pass would send more than `dead_mans_switch.storm_threshold` down alerts
 * to the same follower, that follower's e-mails of those alerts are held back (the chatter entries and inbox
 * notifications stay) and one incident message lists the instances instead; their recoveries likewise, told
 * once all recovered or after `dead_mans_switch.storm_window_seconds` without a new one.
 */
@Injectable()
export class StormBreakerService {
  private readonly logger = new Logger('DeadMansSwitchStorm');

  constructor(
    @Inject(StormRepository) private readonly storms: StormRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(NotificationDispatcher) private readonly dispatcher: NotificationDispatcher,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Database) private readonly database: Database,
    @Inject(IncidentsRepository) private readonly incidents: IncidentsRepository,
  ) {}

  /** The followers in a storm for the pass at `now`: read once, before the pass claims any instance. */
  async stormingPartners(now: Date): Promise<number[]> {
    const threshold = await this.settings.get(DMS_SETTINGS.stormThreshold);
    // Followers subscribed to down alerts of more than `threshold` due instances.
    const followed = await this.chatter.followedCounts(
      INSTANCE_MODEL,
      await this.storms.dueInstanceIds(now),
      SUBTYPE_DOWN,
    );
    return [...followed].filter(([, count]) => count > threshold).map(([partnerId]) => partnerId);
  }

  /** In the alerts' transaction: holds back the e-mails of these down alerts to the storming followers. */
  async holdDown(
    partners: number[],
    downs: { instanceId: number; messageId: number }[],
    passAt: Date,
    manager: EntityManager,
  ): Promise<void> {
    if (partners.length === 0 || downs.length === 0) return;
    // Holding back an e-mail deletes its notification in the transaction that wrote it, before the dispatcher
    // could see it (the chatter entries and inbox notifications stay).
    const held = await this.dispatcher.withholdEmails(
      downs.map((d) => d.messageId),
      partners,
      manager,
    );
    const instances = new Map<number, number[]>();
    for (const d of downs) instances.set(d.messageId, [...(instances.get(d.messageId) ?? []), d.instanceId]);
    await this.storms.addToDownStorms(
      held.flatMap((h) =>
        (instances.get(h.messageId) ?? []).map((instanceId) => ({ partnerId: h.partnerId, instanceId })),
      ),
      passAt,
      manager,
    );
  }

  /** In the recovery's transaction: holds back its e-mail to followers who were told of it in a storm. */
  async holdRecovery(instanceId: number, messageId: number, at: Date, manager: EntityManager): Promise<void> {
    const storms = await this.storms.downStormsAwaitingRecovery(instanceId, manager);
    if (storms.length === 0) return;
    const held = await this.dispatcher.withholdEmails(
      [messageId],
      storms.map((s) => s.partnerId),
      manager,
    );
    const stormOf = new Map(storms.map((s) => [s.partnerId, s.id]));
    await this.storms.addToUpStorms(
      instanceId,
      held.map((h) => ({ downStormId: stormOf.get(h.partnerId)!, partnerId: h.partnerId })),
      at,
      manager,
    );
  }

  /**
   * Tells every storm that is ready, one transaction each: the incident message and the storm's `posted_at`
   * commit together, so each storm is told exactly once. `passAt`: the pass whose storms are complete now.
   */
  async tellReady(now: Date, passAt: Date | null): Promise<number> {
    const window = await this.settings.get(DMS_SETTINGS.stormWindowSeconds);
    const downBefore = new Date(now.getTime() - ORPHAN_AFTER_MS);
    const upBefore = new Date(now.getTime() - window * 1000);
    let told = 0;
    for (;;) {
      const done = await this.database.transaction(async (manager) => {
        const storm = await this.storms.claimReady(passAt, downBefore, upBefore, manager);
        if (!storm) return false;
        await this.tell(storm, now, manager);
        return true;
      });
      if (!done) return told;
      told++;
    }
  }

  private async tell(storm: PendingStorm, now: Date, manager: EntityManager): Promise<void> {
    const ids = [...new Set(storm.instance_ids)];
    const names = await instanceDisplayNames(ids, manager);
    const instances = ids
      .map((id) => ({ id, name: names.get(id) ?? `#${id}` }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const args = { count: instances.length, names: instances.map((i) => i.name).join(', ') };
    // The incidents the storm's instances are in: the e-mail offers to acknowledge them.
    const incidentIds =
      storm.kind === 'down'
        ? [...new Set((await this.incidents.openOf(ids, HEARTBEAT, manager)).map((o) => o.incidentId))]
        : [];
    const { id } = await this.chatter.notify(
      systemContext(),
      [storm.partner_id],
      {
        subject: { key: `dead_mans_switch_server.alerts.storm_${storm.kind}_subject`, args },
        body: { key: `dead_mans_switch_server.alerts.storm_${storm.kind}_body`, args },
        template: 'dead_mans_switch_server/instance_storm',
        templateValues: { kind: storm.kind, instances, incident_ids: incidentIds },
      },
      manager,
    );
    await this.storms.markPosted(storm.id, id, now, manager);
    this.logger.warn(
      `Storm: ${instances.length} instance(s) ${storm.kind === 'down' ? 'down' : 'back up'} told to partner ` +
        `${storm.partner_id} in one incident message`,
    );
  }
}
