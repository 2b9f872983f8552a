import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { badRequest, ChatterService, Clock, systemContext } from '../../../src/index.js';
import { instanceDisplayName, instanceDisplayNames } from '../instance-names.repository.js';
import { INSTANCE_MODEL } from '../settings.js';
import { InstanceDependenciesRepository, type SuppressedChild } from './instance-dependencies.repository.js';

const DEPENDENCIES = 'dead_mans_switch_server.dependencies';

/** A due instance as the watchdog read it, with its nearest ancestor that is down. */
export interface SuppressedDue {
  id: number;
  alert_state: 'ok' | 'down';
  last_seen: string | null;
  next_deadline: string;
  suppressed_by_id: number | null;
  ancestor: number;
}

/**
 * Instance dependencies (a host and its Odoo instances, a customer's VPN probe and its instances): while an
 * ancestor is down, a dependent that goes quiet is down all the same (the truth is kept), but its followers are
 * not told; an internal note says why, and the ancestor lists it. When the ancestor is back, the dependents still
 * down are alerted by the next watchdog pass; one that recovers meanwhile tells no one (no one heard it was down).
 *
 * The probes addon keeps `probes_down` up to date through `setProbesDown` (the server never reads probe tables)
 * and asks `suppressingAncestor` before it tells a probe's alert.
 */
@Injectable()
export class InstanceDependenciesService {
  constructor(
    @Inject(InstanceDependenciesRepository) private readonly dependencies: InstanceDependenciesRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /**
   * Refuses a `depends_on_id` that does not exist or would close a cycle (400 naming it, e.g. `A → B → A`). Call
   * it in the transaction that writes the change: it takes the dependencies' lock, so that two concurrent edits
   * cannot make a cycle between them.
   */
  async checkDependsOn(id: number, dependsOnId: number, manager: EntityManager): Promise<void> {
    await this.dependencies.lockGraph(manager);
    const chain = await this.dependencies.chain(dependsOnId, manager);
    if (chain.length === 0)
      throw badRequest('core.errors.unknown_reference', { field: 'depends_on_id', id: dependsOnId });
    const at = chain.indexOf(id);
    if (at === -1) return;
    // id → dependsOnId → … → id
    const loop = [id, ...chain.slice(0, at + 1)];
    const names = await instanceDisplayNames(loop, manager);
    throw badRequest(`${DEPENDENCIES}.cycle`, {
      field: 'depends_on_id',
      cycle: loop.map((n) => names.get(n) ?? `#${n}`).join(' → '),
    });
  }

  /** Of `ids`, those with an ancestor down at `now`, and the nearest such ancestor. */
  downAncestors(ids: number[], now: Date, manager: EntityManager): Promise<Map<number, number>> {
    return this.dependencies.downAncestors(ids, now, manager);
  }

  /**
   * The watchdog's verb for due instances whose ancestor is down: down without an alert. A note on each
   * instance says which ancestor suppresses it, once per ancestor (not at each reminder time). Returns the ids
   * moved.
   */
  async suppress(due: SuppressedDue[], now: Date, manager: EntityManager): Promise<number[]> {
    const moved = new Set(await this.dependencies.suppress(due, now, manager));
    const told = due.filter((d) => moved.has(d.id) && d.suppressed_by_id !== d.ancestor);
    const names = await instanceDisplayNames(
      told.flatMap((d) => [d.id, d.ancestor]),
      manager,
    );
    for (const d of told)
      await this.chatter.log(
        systemContext(),
        { model: INSTANCE_MODEL, id: d.id },
        {
          body: {
            key: `${DEPENDENCIES}.suppressed_note`,
            args: { name: names.get(d.id) ?? `#${d.id}`, parent: names.get(d.ancestor) ?? `#${d.ancestor}` },
          },
        },
        manager,
      );
    return [...moved];
  }

  /** A suppressed instance checked in again: a note, no recovery alert (its outage was never told). */
  async recoveredSilently(id: number, suppressedBy: number, manager: EntityManager): Promise<void> {
    const names = await instanceDisplayNames([id, suppressedBy], manager);
    await this.chatter.log(
      systemContext(),
      { model: INSTANCE_MODEL, id },
      {
        body: {
          key: `${DEPENDENCIES}.recovered_note`,
          args: { name: names.get(id) ?? `#${id}`, parent: names.get(suppressedBy) ?? `#${suppressedBy}` },
        },
      },
      manager,
    );
  }

  /**
   * The dependents each of `ids` suppresses; with `dueAt`, also those overdue then and not alerted yet (the same
   * watchdog pass suppresses them).
   */
  suppressedChildren(
    ids: number[],
    manager?: EntityManager,
    dueAt?: Date,
  ): Promise<Map<number, SuppressedChild[]>> {
    return this.dependencies.suppressedChildren(ids, manager, dueAt);
  }

  /** Dependents whose suppressing ancestor is back are due now (the pass alerts them). */
  wakeReleased(now: Date, manager: EntityManager): Promise<number> {
    return this.dependencies.wakeReleased(now, manager);
  }

  /**
   * Hook for the probes addon, in the transaction that records a probe's transition: how many probes of the
   * instance are down now. An instance with a probe down counts as down for its dependents; when none is down
   * any more, the next watchdog pass looks at the dependents it suppressed.
   */
  async setProbesDown(instanceId: number, count: number, manager: EntityManager): Promise<void> {
    await this.dependencies.setProbesDown(instanceId, count, manager);
  }

  /**
   * Hook for the probes addon, before it tells a probe's alert: the display name of the instance's nearest
   * ancestor that is down (the alert is then an internal note instead), or null when the alert goes out.
   */
  async suppressingAncestor(instanceId: number, manager: EntityManager): Promise<string | null> {
    const ancestor = (await this.dependencies.downAncestors([instanceId], this.clock.now(), manager)).get(
      instanceId,
    );
    return ancestor === undefined ? null : instanceDisplayName(ancestor, manager);
  }

  /** The instances one may depend on (id and display name), for the instance form. */
  choices(): Promise<{ id: number; name: string }[]> {
    return this.dependencies.choices();
  }
}
