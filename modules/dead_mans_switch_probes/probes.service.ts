import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  APP_CONFIG,
  ChatterService,
  Clock,
  Database,
  SettingsService,
  badRequest,
  notFound,
  systemContext,
  type AppConfig,
  type Page,
  type PaginationQueryDto,
  type RequestContext,
} from '../../src/index.js';
import { InstanceDependenciesService } from '../dead_mans_switch_server/dependencies/instance-dependencies.service.js';
import { instanceDisplayName } from '../dead_mans_switch_server/instance-names.repository.js';
import { IncidentsService } from '../dead_mans_switch_server/incidents/incidents.service.js';
import { INSTANCE_MODEL } from '../dead_mans_switch_server/settings.js';
import { ProbeAddressRefused } from './probe-address.js';
import { ProbeMetrics } from './probe-metrics.service.js';
import { ProbeNetworkRepository } from './probe-network.repository.js';
import { pemCertificatesProblem } from './probe-pem.js';
import { PROBE_SECRET_ENV, ProbeSecrets } from './probe-secrets.js';
import { ProbeSecretsRepository } from './probe-secrets.repository.js';
import { PROBE_MODEL, PROBE_SETTING, SUBTYPE_PROBE_DOWN, SUBTYPE_PROBE_UP } from './probe-settings.js';
import {
  toProbeResponse,
  toProbeResultResponse,
  type CreateProbeDto,
  type ProbeResponse,
  type ProbeResultResponse,
  type UpdateProbeDto,
} from './probe.dto.js';
import type {
  HttpTarget,
  ProbeKind,
  ProbeOutcome,
  ProbeRow,
  ProbeState,
  ProbeTarget,
  SshTarget,
  TcpTarget,
} from './probe.types.js';
import { ProbesRepository, type ProbeUpdate } from './probes.repository.js';

/** Probes a runner pass runs side by side (each holds a database connection only to claim and to record). */
export const PROBE_WORKERS = 4;
/**
 * How long a run's claim on its probe lasts (on the database's clock). A run is cut off at its timeout (60 s at
 * most), so only a dead worker's claim lapses; then another runs the probe.
 */
export const PROBE_CLAIM_LEASE_SECONDS = 120;

const E = 'dead_mans_switch_server.probes.errors';

/** What a run changes: the probe's new state and, on a transition, the alert to post. */
export function decide(
  probe: Pick<ProbeRow, 'state' | 'consecutive_failures'>,
  ok: boolean,
  failuresBeforeAlert: number,
): { state: ProbeState; consecutiveFailures: number; alert?: 'down' | 'up' } {
  if (ok) return { state: 'up', consecutiveFailures: 0, ...(probe.state === 'down' ? { alert: 'up' } : {}) };
  const failures = probe.consecutive_failures + 1;
  if (probe.state !== 'down' && failures >= Math.max(1, failuresBeforeAlert))
    return { state: 'down', consecutiveFailures: failures, alert: 'down' };
  return { state: probe.state, consecutiveFailures: failures };
}

/**
 * Active probes of instances: configuration (with the address policy and secrets), runs and their alerts.
 * Claim-then-release: a scheduled run claims its probe in a short transaction (`claimed_by`, `claimed_until`),
 * runs it with no database connection held, and records its result, the probe's new state and any alert in a
 * second transaction that locks the probe and decides from its state as it stands then — so that any number of
 * replicas run each due probe once and post each transition once, and a slow instance never holds a connection.
 */
/** An instance's active probes: how many, how many up and down. */
export interface ProbeSummary {
  total: number;
  up: number;
  down: number;
}

@Injectable()
export class ProbesService {
  private readonly logger = new Logger('DeadMansSwitchProbes');
  private readonly secrets: ProbeSecrets;
  /** Names this replica's claims: unique per process start, even where every container is pid 1. */
  readonly worker = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    @Inject(ProbesRepository) private readonly probes: ProbesRepository,
    @Inject(ProbeNetworkRepository) private readonly network: ProbeNetworkRepository,
    @Inject(ChatterService) private readonly chatter: ChatterService,
    @Inject(SettingsService) private readonly settings: SettingsService,
    @Inject(Clock) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Database) private readonly database: Database,
    @Inject(ProbeMetrics) private readonly metrics: ProbeMetrics,
    @Inject(ProbeSecretsRepository) secretsRepository: ProbeSecretsRepository,
    @Inject(InstanceDependenciesService) private readonly dependencies: InstanceDependenciesService,
    @Inject(IncidentsService) private readonly incidents: IncidentsService,
  ) {
    this.secrets = new ProbeSecrets(config, secretsRepository);
  }

  async list(_ctx: RequestContext, instanceId: number): Promise<ProbeResponse[]> {
    if (!(await this.probes.instanceExists(instanceId))) throw notFound(INSTANCE_MODEL, instanceId);
    return (await this.probes.listByInstance(instanceId)).map(toProbeResponse);
  }

  /** How many active probes of each instance there are, and how many are up and down (none: all zero). */
  async summaries(instanceIds: number[]): Promise<Map<number, ProbeSummary>> {
    const found = await this.probes.summaries(instanceIds);
    return new Map(instanceIds.map((id) => [id, found.get(id) ?? { total: 0, up: 0, down: 0 }]));
  }

  async get(_ctx: RequestContext, id: number): Promise<ProbeResponse> {
    return toProbeResponse(await this.find(id));
  }

  async create(_ctx: RequestContext, instanceId: number, dto: CreateProbeDto): Promise<ProbeResponse> {
    if (!(await this.probes.instanceExists(instanceId))) throw notFound(INSTANCE_MODEL, instanceId);
    const target = await this.target(dto.kind, dto);
    const secret = this.secret(dto.kind, dto, undefined);
    const row = await this.probes.insert(
      {
        instanceId,
        name: dto.name?.trim() || defaultName(dto.kind, target),
        kind: dto.kind,
        active: dto.active ?? true,
        intervalSeconds: dto.interval_seconds ?? 300,
        timeoutSeconds: dto.timeout_seconds ?? 10,
        target: secret.auth ? { ...(target as SshTarget), auth: secret.auth } : target,
        secretEnv: secret.env,
        secretEncrypted: secret.encrypted,
      },
      this.clock.now(),
    );
    this.logger.log(`Probe ${row.id} (${row.kind}) created on instance ${instanceId}`);
    return toProbeResponse(row);
  }

  async update(_ctx: RequestContext, id: number, dto: UpdateProbeDto): Promise<ProbeResponse> {
    const before = await this.find(id);
    const target = await this.target(before.kind, dto, before.target);
    const secret = this.secret(before.kind, dto, before);
    await this.probes.update(
      {
        ...before,
        name: dto.name?.trim() || before.name,
        active: dto.active ?? before.active,
        interval_seconds: dto.interval_seconds ?? before.interval_seconds,
        timeout_seconds: dto.timeout_seconds ?? before.timeout_seconds,
        target: secret.auth ? { ...(target as SshTarget), auth: secret.auth } : target,
        secret_env: secret.env,
        secret_encrypted: secret.encrypted,
      },
      this.clock.now(),
    );
    await this.syncProbesDown(before.instance_id);
    return this.get(_ctx, id);
  }

  async delete(_ctx: RequestContext, id: number): Promise<void> {
    const probe = await this.probes.find(id);
    if (!(await this.probes.delete(id))) throw notFound(PROBE_MODEL, id);
    if (probe) await this.syncProbesDown(probe.instance_id);
  }

  /**
   * An instance no longer watched had its incidents closed when it stopped (the server's IncidentsService): its
   * probes forget their state, so that one still failing when the instance is watched again goes down — opening an
   * incident and alerting — anew, instead of staying `down` with nothing open. Runs before each pass (a suspension
   * and a resumption within one pass, 15 s, keep the state).
   */
  private async forgetUnwatched(): Promise<void> {
    await this.database.transaction(async (manager) => {
      for (const instanceId of await this.probes.forgetUnwatched(manager))
        await this.syncProbesDown(instanceId, manager);
    });
  }

  /** The server's dependencies count the instance's probes down (a deactivated or deleted one no longer is). */
  private async syncProbesDown(instanceId: number, manager?: EntityManager): Promise<void> {
    if (!manager) return this.database.transaction((m) => this.syncProbesDown(instanceId, m));
    await this.dependencies.setProbesDown(
      instanceId,
      await this.probes.countDown(instanceId, manager),
      manager,
    );
  }

  /** Deletes a probe of the given instance (the web page's form names both). */
  async deleteFromInstance(_ctx: RequestContext, instanceId: number, id: number): Promise<void> {
    const probe = await this.probes.find(id);
    if (!probe || probe.instance_id !== instanceId) throw notFound(PROBE_MODEL, id);
    await this.delete(_ctx, id);
  }

  async results(
    _ctx: RequestContext,
    id: number,
    page: PaginationQueryDto,
  ): Promise<Page<ProbeResultResponse>> {
    await this.find(id);
    const { items, total } = await this.probes.results(id, page.limit, page.offset);
    return { items: items.map(toProbeResultResponse), total, limit: page.limit, offset: page.offset };
  }

  /**
   * Runs one probe now and returns its result. It needs no claim: a scheduled run of the same probe may go on
   * side by side, and the two results are recorded one after the other, each deciding from the state the other
   * left, so a transition is still posted once.
   */
  async runNow(_ctx: RequestContext, id: number): Promise<ProbeResultResponse> {
    const options = await this.runOptions();
    const probe = await this.probes.find(id);
    if (!probe) throw notFound(PROBE_MODEL, id);
    const result = await this.runAndRecord(probe, options, null);
    if (!result) throw notFound(PROBE_MODEL, id);
    return toProbeResultResponse(result);
  }

  /**
   * Runs every due probe of active instances, a few side by side; returns how many ran. A probe whose run cannot
   * be recorded keeps its claim until the lease passes (then it is due again) and is skipped for the rest of the
   * pass.
   */
  async runDue(): Promise<number> {
    await this.forgetUnwatched();
    const now = this.clock.now();
    const options = await this.runOptions();
    const failed: number[] = [];
    const counts = await Promise.all(
      Array.from({ length: PROBE_WORKERS }, async () => {
        let ran = 0;
        for (;;) {
          let probe: ProbeRow | undefined;
          try {
            probe = await this.database.transaction((manager) =>
              this.probes.claimDue(now, failed, this.worker, PROBE_CLAIM_LEASE_SECONDS, manager),
            );
          } catch (error) {
            this.logger.error(`Probes could not be claimed; the next pass retries: ${String(error)}`);
            return ran;
          }
          if (!probe) return ran;
          try {
            if (await this.runAndRecord(probe, options, this.worker)) ran++;
            else this.logger.warn(`Probe ${probe.id}: its claim lapsed during the run and another took it`);
          } catch (error) {
            failed.push(probe.id);
            this.logger.error(
              `Probe ${probe.id} could not be recorded; it runs again once its claim lapses: ${String(error)}`,
            );
          }
        }
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Deletes results older than the retention setting; returns how many. */
  async deleteOldResults(now: Date): Promise<number> {
    const days = await this.settings.get(PROBE_SETTING.retentionDays);
    if (days === 0) return 0;
    return this.probes.deleteResultsBefore(new Date(now.getTime() - days * 86_400_000), 10_000);
  }

  private async runOptions(): Promise<{ allowPrivate: boolean; threshold: number }> {
    return {
      allowPrivate: await this.settings.get(PROBE_SETTING.privateNetworks),
      threshold: await this.settings.get(PROBE_SETTING.failuresBeforeAlert),
    };
  }

  /**
   * Runs the probe with no database connection held, then, in one short transaction, writes its result, its new
   * state and any alert, deciding from the probe as it stands then. A scheduled run (`worker` set) records only
   * while its claim stands, and ends it; undefined when the claim lapsed or the probe was deleted meanwhile.
   */
  private async runAndRecord(
    probe: ProbeRow,
    options: { allowPrivate: boolean; threshold: number },
    worker: string | null,
  ) {
    let outcome: ProbeOutcome;
    try {
      outcome = await this.network.run(probe, {
        allowPrivate: options.allowPrivate,
        secret: this.readSecret(probe),
      });
    } catch (error) {
      // The secret could not be read: a failed run that says why.
      outcome = { ok: false, latencyMs: 0, detail: (error as Error).message, missingProcesses: [] };
    }
    const at = this.clock.now();
    return this.database.transaction(async (manager) => {
      const current = await this.probes.lockForRecord(probe.id, worker, manager);
      if (!current) return undefined;
      const decision = decide(current, outcome.ok, options.threshold);
      const update: ProbeUpdate = {
        state: decision.state,
        consecutiveFailures: decision.consecutiveFailures,
        nextRunAt: new Date(at.getTime() + current.interval_seconds * 1000),
      };
      const result = await this.probes.record(current, outcome, at, update, worker !== null, manager);
      this.metrics.ran(probe.kind, outcome.ok, outcome.latencyMs);
      if (decision.alert) {
        await this.syncProbesDown(probe.instance_id, manager);
        await this.alert(current, decision.alert, decision.consecutiveFailures, outcome, manager);
        this.logger.warn(
          `Probe ${probe.id} (${current.name}) of instance ${probe.instance_id} is ${decision.alert}: ${outcome.detail}`,
        );
      }
      return result;
    });
  }

  private async alert(
    probe: ProbeRow,
    kind: 'down' | 'up',
    failures: number,
    outcome: ProbeOutcome,
    manager: EntityManager,
  ): Promise<void> {
    const name = await instanceDisplayName(probe.instance_id, manager);
    const args = { name, probe: probe.name, kind: probe.kind, count: failures, detail: outcome.detail };
    // The recovery closes the probe's incident (same transaction), even while an ancestor is down.
    const ref = { id: probe.id, kind: probe.kind, instanceId: probe.instance_id, name: probe.name };
    if (kind === 'up') await this.incidents.probeUp(ref, this.clock.now(), manager);
    // An ancestor of the instance is down (a host, a VPN): an internal note, not an alert to the followers.
    const parent = await this.dependencies.suppressingAncestor(probe.instance_id, manager);
    if (parent) {
      await this.chatter.log(
        systemContext(),
        { model: INSTANCE_MODEL, id: probe.instance_id },
        {
          body: {
            key: 'dead_mans_switch_server.dependencies.probe_suppressed_note',
            args: {
              ...args,
              parent,
              alert: { key: `dead_mans_switch_server.probes.alerts.${kind}_body`, args },
            },
          },
        },
        manager,
      );
      return;
    }
    // The down alert opens the probe's incident (same transaction).
    const incident =
      kind === 'down' ? await this.incidents.probeDown(ref, this.clock.now(), manager) : undefined;
    await this.chatter.post(
      systemContext(),
      { model: INSTANCE_MODEL, id: probe.instance_id },
      {
        subtype: kind === 'down' ? SUBTYPE_PROBE_DOWN : SUBTYPE_PROBE_UP,
        type: 'notification',
        subject: { key: `dead_mans_switch_server.probes.alerts.${kind}_subject`, args },
        body: { key: `dead_mans_switch_server.probes.alerts.${kind}_body`, args },
        templateValues: incident ? { incident_ids: [incident] } : undefined,
      },
      manager,
    );
  }

  private readSecret(probe: ProbeRow): string | undefined {
    if (probe.kind !== 'ssh') return undefined;
    if (probe.secret_env) {
      // Also at run time: a row stored before the rule (or written by hand) must not read SESSION_SECRET.
      if (!PROBE_SECRET_ENV.test(probe.secret_env))
        throw new Error(
          `the environment variable ${probe.secret_env} may not be read by a probe: only PROBE_SECRET_* variables may; ` +
            'edit the probe to name one',
        );
      const value = this.config.env[probe.secret_env];
      if (!value) throw new Error(`the environment variable ${probe.secret_env} is not set`);
      return value;
    }
    return probe.secret_encrypted ? this.secrets.decrypt(probe.secret_encrypted) : undefined;
  }

  private async find(id: number): Promise<ProbeRow> {
    const probe = await this.probes.find(id);
    if (!probe) throw notFound(PROBE_MODEL, id);
    return probe;
  }

  /** The kind's target from the request (and, on an edit, the current one), with its addresses checked. */
  private async target(kind: ProbeKind, dto: UpdateProbeDto, current?: ProbeTarget): Promise<ProbeTarget> {
    switch (kind) {
      case 'http': {
        const was = current as HttpTarget | undefined;
        const target: HttpTarget = {
          url: dto.url ?? was?.url ?? '',
          method: dto.method ?? was?.method ?? 'GET',
          expect_status_min: dto.expect_status_min ?? was?.expect_status_min ?? 200,
          expect_status_max: dto.expect_status_max ?? was?.expect_status_max ?? 399,
          expect_text: dto.expect_text !== undefined ? dto.expect_text || null : (was?.expect_text ?? null),
          cert_warning_days: dto.cert_warning_days ?? was?.cert_warning_days ?? 14,
          tls_ca: dto.tls_ca !== undefined ? dto.tls_ca?.trim() || null : (was?.tls_ca ?? null),
        };
        let url: URL;
        try {
          url = new URL(target.url);
        } catch {
          throw badRequest(`${E}.url`);
        }
        if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password)
          throw badRequest(`${E}.url`);
        if (target.expect_status_min > target.expect_status_max) throw badRequest(`${E}.status_range`);
        if (target.tls_ca && url.protocol !== 'https:') throw badRequest(`${E}.tls_ca_not_https`);
        if (dto.tls_ca?.trim()) {
          const problem = pemCertificatesProblem(dto.tls_ca);
          if (problem?.kind === 'format') throw badRequest(`${E}.tls_ca_format`);
          if (problem?.kind === 'invalid') throw badRequest(`${E}.tls_ca_invalid`, { index: problem.index });
        }
        await this.checkHost(url.hostname);
        return target;
      }
      case 'tcp': {
        const was = current as TcpTarget | undefined;
        const target: TcpTarget = { host: dto.host ?? was?.host ?? '', port: dto.port ?? was?.port ?? 0 };
        if (!target.host) throw badRequest(`${E}.required`, { field: 'host' });
        if (!target.port) throw badRequest(`${E}.required`, { field: 'port' });
        await this.checkHost(target.host);
        return target;
      }
      case 'ssh': {
        const was = current as SshTarget | undefined;
        const target: SshTarget = {
          host: dto.host ?? was?.host ?? '',
          port: dto.port ?? was?.port ?? 22,
          user: dto.user ?? was?.user ?? '',
          auth: was?.auth ?? 'password',
          host_key_sha256: dto.host_key_sha256 ?? was?.host_key_sha256 ?? '',
          processes: dto.processes ?? was?.processes ?? [],
          command: dto.command !== undefined ? dto.command || null : (was?.command ?? null),
        };
        for (const field of ['host', 'user', 'host_key_sha256'] as const)
          if (!target[field]) throw badRequest(`${E}.required`, { field });
        if (!target.processes.length && !target.command) throw badRequest(`${E}.nothing_to_check`);
        await this.checkHost(target.host);
        return target;
      }
    }
  }

  /** At configuration: a literal address, or every address a name resolves to now, must pass the policy. */
  private async checkHost(host: string): Promise<void> {
    const allowPrivate = await this.settings.get(PROBE_SETTING.privateNetworks);
    try {
      await this.network.resolver.checked(host, allowPrivate);
    } catch (error) {
      if (error instanceof ProbeAddressRefused)
        throw badRequest(`${E}.address_refused`, { reason: error.message });
      // A name that does not resolve yet is accepted: each run checks it again.
    }
  }

  /** Where an SSH probe's secret comes from: exactly one of four fields on creation, any one on an edit. */
  private secret(
    kind: ProbeKind,
    dto: UpdateProbeDto,
    before: ProbeRow | undefined,
  ): { env: string | null; encrypted: string | null; auth?: 'password' | 'key' } {
    const given = (['password', 'password_env', 'private_key', 'private_key_env'] as const).filter(
      (field) => dto[field] !== undefined,
    );
    if (kind !== 'ssh') {
      if (given.length) throw badRequest(`${E}.secret_not_ssh`);
      return { env: null, encrypted: null };
    }
    if (given.length > 1) throw badRequest(`${E}.one_secret`);
    if (given.length === 0) {
      if (!before) throw badRequest(`${E}.one_secret`);
      return {
        env: before.secret_env,
        encrypted: before.secret_encrypted,
        auth: (before.target as SshTarget).auth,
      };
    }
    const auth = given[0].startsWith('password') ? 'password' : 'key';
    // A manager must not point a probe at SESSION_SECRET, DATABASE_URL… and read it on an SSH server they run.
    for (const field of ['password_env', 'private_key_env'] as const) {
      const name = dto[field];
      if (name !== undefined && !PROBE_SECRET_ENV.test(name))
        throw badRequest(`${E}.secret_env_prefix`, { field });
    }
    if (dto.password_env) return { env: dto.password_env, encrypted: null, auth };
    if (dto.private_key_env) return { env: dto.private_key_env, encrypted: null, auth };
    const value = (dto.password ?? dto.private_key)!;
    if (!value) throw badRequest(`${E}.one_secret`);
    return { env: null, encrypted: this.secrets.encrypt(value), auth };
  }
}

function defaultName(kind: ProbeKind, target: ProbeTarget): string {
  if (kind === 'http') return (target as HttpTarget).url.slice(0, 100);
  const { host, port } = target as TcpTarget;
  return `${kind} ${host}:${port}`.slice(0, 100);
}
