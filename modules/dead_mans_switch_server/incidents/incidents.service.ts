import { InstanceDependenciesService } from '../dependencies/instance-dependencies.service.js';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  ChatterService,
  Clock,
  conflict,
  Database,
  forbidden,
  hasRole,
  MessageActions,
  notFound,
  SecretKeys,
  SettingsService,
  systemContext,
  type MessageAction,
  type MessageActionContext,
  type Page,
  type RequestContext,
  type Translatable,
} from '../../../src/index.js';
import { INSTANCE_MODEL, SUBTYPE_DOWN } from '../settings.js';
import { ACK_PATH, signAckLink, verifyAckLink, type AckLink } from './ack-links.js';
import { toIncidentResponse, type IncidentResponse, type ListIncidentsQueryDto } from './incident.dto.js';
import { INCIDENT_SETTINGS } from './incident-settings.js';
import {
  HEARTBEAT,
  IncidentsRepository,
  probeSource,
  type HeartbeatDown,
  type IncidentRow,
  type OpenIncident,
} from './incidents.repository.js';

const I = 'dead_mans_switch_server.incidents';
export const INCIDENT_MODEL_NAME = 'dead_mans_switch.incident';

/** What the acknowledge page shows for a link, before anyone confirms. */
export type AckLinkState =
  | { state: 'invalid' | 'expired' | 'used' }
  | { state: 'closed' | 'acknowledged' | 'ready'; incident: IncidentResponse; recipient: string };

/** Whether a user may acknowledge incidents: account managers and ops (admins have every role). */
export const canAcknowledge = (ctx: RequestContext) =>
  hasRole(ctx.user, 'manager') || hasRole(ctx.user, 'ops');

/**
 * Incidents: one per down (of the check-ins or of a probe), opened and closed in the transaction of the state change
 * that decided the alert, so that an incident exists exactly when the alert does; a storm's instances of one
 * watchdog pass and customer share one. Acknowledged by a user or through the signed link of an alert (once); the
 * acknowledgement stops the reminders and the escalation of that incident. Each change is noted in the chatter of
 * its instances.
 */
@Injectable()
export class IncidentsService implements OnModuleInit {
  private readonly ackKey: Buffer;

  constructor(
    @Inject(IncidentsRepository) private readonly incidents: IncidentsRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(MessageActions) private readonly actions: MessageActions,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
    @Inject(SecretKeys) keys: SecretKeys,
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
  ) {
    this.ackKey = keys.key('incident-ack');
  }

  onModuleInit(): void {
    this.actions.register((context) => this.ackActions(context));
  }

  // Opening and closing, in the caller's transaction.

  /**
   * In the watchdog's transaction, after its compare-and-set: opens an incident for each instance that went down
   * (those a storming follower follows join the storm's incident of this pass and customer), and returns the open
   * incident of every instance of the batch (down or reminded).
   */
  async forWatchdog(
    transitions: { id: number; kind: 'down' | 'reminder' }[],
    storming: number[],
    passAt: Date,
    manager: EntityManager,
  ): Promise<Map<number, OpenIncident>> {
    const now = passAt;
    const downIds = transitions.filter((t) => t.kind === 'down').map((t) => t.id);
    if (downIds.length > 0) {
      await this.incidents.closeStale(downIds, HEARTBEAT, now, manager);
      const facts = await this.incidents.downFacts(downIds, manager);
      const inStorm = new Set(
        await this.chatter.followedBy(INSTANCE_MODEL, downIds, storming, SUBTYPE_DOWN, manager),
      );
      const singles = facts.filter((d) => !inStorm.has(d.instanceId));
      const opened = await this.incidents.openSingles(singles, now, manager);
      // One storm incident per customer, in customer order (replicas' workers lock them in the same order).
      const byCustomer = new Map<number | null, HeartbeatDown[]>();
      for (const d of facts.filter((f) => inStorm.has(f.instanceId)))
        byCustomer.set(d.partnerId, [...(byCustomer.get(d.partnerId) ?? []), d]);
      const customers = [...byCustomer.keys()].sort((a, b) => (a ?? 0) - (b ?? 0));
      for (const customer of customers) {
        const downs = byCustomer.get(customer)!;
        const id = await this.incidents.joinStorm(passAt, customer, downs, now, manager);
        for (const d of downs) opened.set(d.instanceId, id);
      }
      const causes = new Map(facts.map((f) => [f.instanceId, f.cause]));
      for (const [instanceId, id] of opened)
        await this.note(
          instanceId,
          { key: `${I}.opened`, args: { id, cause: { key: `${I}.causes.${causes.get(instanceId)}` } } },
          manager,
        );
    }
    const open = await this.incidents.openOf(
      transitions.map((t) => t.id),
      HEARTBEAT,
      manager,
    );
    return new Map(open.map((o) => [o.instanceId, o]));
  }

  /** In the check-in's transaction: the instance is back, its outage ends (and its incident with the last one). */
  recovered(instanceId: number, at: Date, manager: EntityManager): Promise<void> {
    return this.close(instanceId, HEARTBEAT, at, manager);
  }

  /** In the probe's transaction: its down alert opens an incident; returns its id. */
  async probeDown(
    probe: { id: number; kind: string; instanceId: number; name: string },
    at: Date,
    manager: EntityManager,
  ): Promise<number> {
    const id = await this.incidents.openProbe(probe, at, manager);
    const cause: Translatable = { key: `${I}.causes.probe`, args: { probe: probe.name, kind: probe.kind } };
    await this.note(probe.instanceId, { key: `${I}.opened`, args: { id, cause } }, manager);
    return id;
  }

  /** In the probe's transaction: the probe is up again, its incident closes. */
  probeUp(probe: { id: number; instanceId: number }, at: Date, manager: EntityManager): Promise<void> {
    return this.close(probe.instanceId, probeSource(probe.id), at, manager);
  }

  /**
   * In the transaction that stops watching the instance (a manager suspends it, it cancels itself): its outages
   * end and an incident with no other instance down closes, so that it neither stays open nor escalates. Activated
   * again and still silent, the instance opens a new incident through the watchdog, like any down.
   */
  async monitoringStopped(instanceId: number, at: Date, manager: EntityManager): Promise<void> {
    const seconds = (from: Date) => Math.max(0, Math.round((at.getTime() - from.getTime()) / 1000));
    for (const member of await this.incidents.closeInstance(instanceId, at, manager))
      await this.note(
        instanceId,
        member.closed
          ? {
              key: `${I}.closed_monitoring_stopped`,
              args: { id: member.incidentId, duration: seconds(member.incidentStartedAt) },
            }
          : {
              key: `${I}.member_monitoring_stopped`,
              args: { id: member.incidentId, remaining: member.remaining },
            },
        manager,
      );
  }

  private async close(instanceId: number, source: string, at: Date, manager: EntityManager): Promise<void> {
    const member = await this.incidents.closeMember(instanceId, source, at, manager);
    if (!member) return;
    const seconds = (from: Date) => Math.max(0, Math.round((at.getTime() - from.getTime()) / 1000));
    await this.note(
      instanceId,
      member.closed
        ? { key: `${I}.closed`, args: { id: member.incidentId, duration: seconds(member.incidentStartedAt) } }
        : {
            key: `${I}.member_recovered`,
            args: { id: member.incidentId, duration: seconds(member.startedAt), remaining: member.remaining },
          },
      manager,
    );
  }

  private async note(instanceId: number, body: Translatable, manager: EntityManager): Promise<void> {
    await this.chatter.log(systemContext(), { model: INSTANCE_MODEL, id: instanceId }, { body }, manager);
  }

  // Reading.

  async list(_ctx: RequestContext, query: ListIncidentsQueryDto): Promise<Page<IncidentResponse>> {
    const { items, total } = await this.incidents.list({
      state: query.state,
      instanceId: query.instance_id,
      partnerId: query.partner_id,
      limit: query.limit,
      offset: query.offset,
    });
    return { items: await this.responses(items), total, limit: query.limit, offset: query.offset };
  }

  async get(_ctx: RequestContext, id: number): Promise<IncidentResponse> {
    const row = await this.incidents.find(id);
    if (!row) throw notFound(INCIDENT_MODEL_NAME, id);
    const [response] = await this.responses([row]);
    return response;
  }

  /** The open incidents an instance is in (its page shows them). */
  async openOfInstance(ctx: RequestContext, instanceId: number): Promise<IncidentResponse[]> {
    const ids = await this.incidents.openOfInstance(instanceId);
    return Promise.all(ids.map((id) => this.get(ctx, id)));
  }

  private async responses(rows: IncidentRow[], manager?: EntityManager): Promise<IncidentResponse[]> {
    const members = await this.incidents.members(
      rows.map((r) => r.id),
      manager,
    );
    const now = this.clock.now();
    // The dependents an open incident's instances silence (a closed one silences none any more).
    const open = rows.filter((r) => !r.ended_at).flatMap((r) => members.get(r.id) ?? []);
    const silenced = await this.dependencies.suppressedChildren(
      open.filter((m) => !m.ended_at).map((m) => m.instance_id),
      manager,
    );
    return rows.map((row) => {
      const own = row.ended_at ? [] : (members.get(row.id) ?? []).filter((m) => !m.ended_at);
      // An instance down by its check-ins and a probe is in the incident twice: its dependents are listed once.
      const instanceIds = [...new Set(own.map((m) => m.instance_id))];
      const suppressed = instanceIds.flatMap((instanceId) =>
        (silenced.get(instanceId) ?? []).map((c) => ({
          id: c.id,
          name: c.name,
          since: c.since?.toISOString() ?? null,
          by_instance_id: instanceId,
        })),
      );
      return toIncidentResponse(row, members.get(row.id) ?? [], now, suppressed);
    });
  }

  // Acknowledging.

  /** A user acknowledges an open incident (409 when it is closed or already acknowledged). */
  async acknowledge(ctx: RequestContext, id: number): Promise<IncidentResponse> {
    if (!canAcknowledge(ctx)) throw forbidden();
    const user = ctx.user!;
    await this.database.transaction(async (manager) => {
      const row = await this.incidents.find(id, manager, true);
      if (!row) throw notFound(INCIDENT_MODEL_NAME, id);
      if (row.ended_at) throw conflict(`${I}.errors.closed`, { id });
      if (row.acknowledged_at)
        throw conflict(`${I}.errors.already_acknowledged`, { id, by: row.acknowledged_by_name ?? '' });
      const name = (await this.incidents.partnerName(user.partnerId, manager)) ?? user.email;
      await this.record(id, { userId: user.id, partnerId: user.partnerId, name }, manager);
    });
    return this.get(ctx, id);
  }

  /** What an acknowledge link stands for now (the GET page: it never acknowledges, mail scanners fetch links). */
  async ackLinkState(token: string): Promise<AckLinkState> {
    const check = verifyAckLink(this.ackKey, token, this.clock.now());
    if (!check.ok) return { state: check.reason };
    if (await this.incidents.ackLinkUsed(check.link)) return { state: 'used' };
    const row = await this.incidents.find(check.link.incidentId);
    if (!row) return { state: 'invalid' };
    const [incident] = await this.responses([row]);
    const recipient = (await this.incidents.partnerName(check.link.partnerId)) ?? '';
    const state = row.ended_at ? 'closed' : row.acknowledged_at ? 'acknowledged' : 'ready';
    return { state, incident, recipient };
  }

  /** The POST of an acknowledge link: acknowledges as its recipient, once; returns what the page shows then. */
  async acknowledgeByLink(token: string): Promise<AckLinkState> {
    const now = this.clock.now();
    const check = verifyAckLink(this.ackKey, token, now);
    if (!check.ok) return { state: check.reason };
    const link = check.link;
    const used = await this.database.transaction(async (manager) => {
      const row = await this.incidents.find(link.incidentId, manager, true);
      if (!row) return 'invalid' as const;
      if (!(await this.incidents.useAckLink(link, now, manager))) return 'used' as const;
      if (row.ended_at || row.acknowledged_at) return undefined;
      const name = (await this.incidents.partnerName(link.partnerId, manager)) ?? `#${link.partnerId}`;
      await this.record(link.incidentId, { userId: null, partnerId: link.partnerId, name }, manager);
      return undefined;
    });
    if (used) return { state: used };
    // The link is spent now; the page says what became of the incident.
    const row = (await this.incidents.find(link.incidentId))!;
    const [incident] = await this.responses([row]);
    const recipient = (await this.incidents.partnerName(link.partnerId)) ?? '';
    return { state: row.acknowledged_at ? 'acknowledged' : 'closed', incident, recipient };
  }

  private async record(
    id: number,
    by: { userId: number | null; partnerId: number | null; name: string },
    manager: EntityManager,
  ): Promise<void> {
    const now = this.clock.now();
    if (!(await this.incidents.acknowledge(id, by, now, manager))) return;
    const members = (await this.incidents.members([id], manager)).get(id) ?? [];
    for (const instanceId of new Set(members.map((m) => m.instance_id)))
      await this.note(
        instanceId,
        { key: `${I}.acknowledged`, args: { id, by: by.name, at: now.toISOString() } },
        manager,
      );
  }

  /** The acknowledge links of a notification: one per open, unacknowledged incident it tells of, for its recipient. */
  private async ackActions(context: MessageActionContext): Promise<MessageAction[]> {
    const ids = context.message.templateValues?.incident_ids;
    if (!Array.isArray(ids) || ids.length === 0) return [];
    const lifetime = await this.settings.get(INCIDENT_SETTINGS.ackLinkSeconds, context.manager);
    const expiresAt = new Date(new Date(context.message.createdAt).getTime() + lifetime * 1000);
    const open = await this.incidents.unacknowledged(ids.map(Number), context.manager);
    return open.map((incidentId) => {
      const link: AckLink = { incidentId, partnerId: context.partnerId, expiresAt };
      return {
        label: { key: `${I}.ack_link`, args: { id: incidentId } },
        url: `${context.baseUrl.replace(/\/+$/, '')}${ACK_PATH}/${signAckLink(this.ackKey, link)}`,
      };
    });
  }
}
