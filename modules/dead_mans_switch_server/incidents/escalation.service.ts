import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  badRequest,
  ChatterService,
  Clock,
  Database,
  forbidden,
  hasRole,
  notFound,
  systemContext,
  UsersService,
  type RequestContext,
} from '../../../src/index.js';
import { INSTANCE_MODEL } from '../settings.js';
import type { EscalationPolicyDto, EscalationPolicyResponse } from './incident.dto.js';
import { EscalationRepository, type DueStep, type PolicyOwner } from './escalation.repository.js';
import { IncidentsRepository } from './incidents.repository.js';
import { displayName } from '../instance-names.repository.js';

const I = 'dead_mans_switch_server.incidents';

/**
 * Escalation: per instance, else per customer, ordered steps ("not acknowledged 15 minutes after it opened: tell
 * these users and channels"). The scheduled task tells each due step of an open, unacknowledged incident exactly
 * once across replicas and crashes: the step's row is claimed (primary key, under the incident's lock) in the
 * transaction that writes its notification, so both commit or neither does.
 */
@Injectable()
export class EscalationService {
  private readonly logger = new Logger('DeadMansSwitchEscalation');

  constructor(
    @Inject(EscalationRepository) private readonly escalation: EscalationRepository,
    @Inject(IncidentsRepository) private readonly incidents: IncidentsRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(Database) private readonly database: Database,
    @Inject(UsersService) private readonly users: UsersService,
  ) {}

  // The policies.

  async instancePolicy(_ctx: RequestContext, instanceId: number): Promise<EscalationPolicyResponse> {
    const instance = await this.escalation.instancePartner(instanceId);
    if (!instance) throw notFound(INSTANCE_MODEL, instanceId);
    const own = await this.escalation.steps({ instanceId });
    if (own.length > 0) return { source: 'instance', steps: own };
    const inherited = instance.partner_id
      ? await this.escalation.steps({ partnerId: instance.partner_id })
      : [];
    return { source: inherited.length > 0 ? 'customer' : 'none', steps: inherited };
  }

  async customerPolicy(_ctx: RequestContext, partnerId: number): Promise<EscalationPolicyResponse> {
    const steps = await this.escalation.steps({ partnerId });
    return { source: steps.length > 0 ? 'customer' : 'none', steps };
  }

  /** Replaces a policy (managers); an empty list removes it (an instance then follows its customer's). */
  async setPolicy(ctx: RequestContext, owner: PolicyOwner, dto: EscalationPolicyDto): Promise<void> {
    if (!hasRole(ctx.user, 'manager')) throw forbidden();
    if ('instanceId' in owner && !(await this.escalation.instancePartner(owner.instanceId)))
      throw notFound(INSTANCE_MODEL, owner.instanceId);
    const steps = dto.steps.map((s) => ({
      after_minutes: s.after_minutes,
      user_ids: [...new Set(s.user_ids ?? [])],
      channel_ids: [...new Set(s.channel_ids ?? [])],
    }));
    for (const [index, step] of steps.entries()) {
      if (step.user_ids.length + step.channel_ids.length === 0)
        throw badRequest(`${I}.errors.step_without_recipient`, { step: index + 1 });
      if (index > 0 && step.after_minutes <= steps[index - 1].after_minutes)
        throw badRequest(`${I}.errors.steps_out_of_order`, { step: index + 1 });
    }
    const known = await this.activeUsers(steps.flatMap((s) => s.user_ids));
    const unknownUser = steps.flatMap((s) => s.user_ids).find((id) => !known.has(id));
    if (unknownUser !== undefined) throw badRequest(`${I}.errors.unknown_user`, { id: unknownUser });
    await this.checkChannels(steps.flatMap((s) => s.channel_ids));
    await this.database.transaction((manager) => this.escalation.replace(owner, steps, manager));
  }

  /**
   * Refuses, naming it, a channel that does not exist, is disabled or belongs to an archived contact: the step
   * would reach no one there, and no one would know until an incident escalates.
   */
  private async checkChannels(ids: number[]): Promise<void> {
    const found = new Map((await this.chatter.alertChannels(ids)).map((c) => [c.id, c]));
    for (const id of ids) {
      const channel = found.get(id);
      if (!channel) throw badRequest(`${I}.errors.unknown_channel`, { id });
      if (!channel.active) throw badRequest(`${I}.errors.inactive_channel`, { id, name: channel.name });
      if (channel.ownerArchived)
        throw badRequest(`${I}.errors.archived_channel_owner`, { id, name: channel.name });
    }
  }

  /** Of these users, the active ones, by id, with their partners. */
  private async activeUsers(ids: number[]): Promise<Map<number, { partner_id: number }>> {
    const found = new Map<number, { partner_id: number }>();
    for (const id of new Set(ids)) {
      const user = await this.users.get(systemContext(), id).catch(() => undefined);
      if (user?.active) found.set(id, { partner_id: user.partner_id });
    }
    return found;
  }

  // The task.

  /** Tells every step due now, one transaction each; returns how many were told. */
  async runDue(): Promise<number> {
    const now = this.clock.now();
    const failed: string[] = [];
    let told = 0;
    for (;;) {
      let step: DueStep | undefined;
      try {
        const done = await this.database.transaction(async (manager) => {
          step = await this.escalation.nextDue(now, failed, manager);
          if (!step) return undefined;
          if (!(await this.escalation.claim(step, now, manager))) return false;
          await this.tell(step, now, manager);
          return true;
        });
        if (done === undefined) return told;
        if (done) told++;
      } catch (error) {
        if (!step) throw error;
        // Rolled back, claim included: the next run tries it again; the others go on.
        failed.push(`${step.incident_id}:${step.position}`);
        this.logger.error(
          `Escalation step ${step.position} of incident ${step.incident_id} failed; the next run retries: ${String(error)}`,
        );
      }
    }
  }

  private async tell(step: DueStep, now: Date, manager: EntityManager): Promise<void> {
    const members = (await this.incidents.members([step.incident_id], manager)).get(step.incident_id) ?? [];
    const names = [...new Set(members.map((m) => displayName(m)))].join(', ');
    // Users deactivated since the policy was set are left out; so are disabled or removed channels (by the chatter).
    const users = [...(await this.activeUsers(step.user_ids)).values()];
    const args = { id: step.incident_id, names, position: step.position, after: step.after_minutes * 60 };
    const { id } = await this.chatter.notify(
      systemContext(),
      users.map((u) => u.partner_id),
      {
        subject: { key: `${I}.escalation_subject`, args },
        body: { key: `${I}.escalation_body`, args },
        templateValues: { incident_ids: [step.incident_id] },
      },
      manager,
      step.channel_ids,
    );
    await this.escalation.recordMessage(step, id, manager);
    for (const instanceId of new Set(members.map((m) => m.instance_id)))
      await this.chatter.log(
        systemContext(),
        { model: INSTANCE_MODEL, id: instanceId },
        {
          body: {
            key: `${I}.escalated`,
            args: { id: step.incident_id, position: step.position, after: step.after_minutes * 60 },
          },
        },
        manager,
      );
    this.logger.warn(
      `Incident ${step.incident_id} not acknowledged after ${step.after_minutes} min: escalation step ${step.position} ` +
        `told (${users.length} user(s), ${step.channel_ids.length} channel(s)) at ${now.toISOString()}`,
    );
  }
}
