import { randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ChatterRepository } from '../chatter/chatter.repository.js';
import { AppException, badRequest, notFound } from '../../common/app.exception.js';
import type { RequestContext } from '../../common/request-context.js';
import { I18nService } from '../../i18n/i18n.service.js';
import { Clock } from '../../scheduler/clock.js';
import { SettingsService } from '../../settings/settings.service.js';
import type { AlertChannel, ChannelSettingSpec } from './alert-channel.js';
import { AlertChannelsRepository, type ChannelRow } from './alert-channels.repository.js';
import { AddressRefusedError, ChannelHttpRepository } from './channel-http.repository.js';
import { ALLOW_PRIVATE_NETWORKS, BASE_URL } from './channel-settings.js';
import { ChannelDeliveryService } from './channel-delivery.service.js';
import { ChannelRegistry } from './channel-registry.js';
import {
  MASK,
  type ChannelKindResponse,
  type ChannelResponse,
  type ChannelTestResponse,
  type CreateChannelDto,
  type UpdateChannelDto,
} from './channels.dto.js';

/**
 * Partners' alert channel subscriptions: users manage their own, managers those of customers' contacts (partners
 * without a user account, who cannot sign in). Settings are validated against the channel's specification and
 * URLs against the address policy (after DNS resolution); secrets are never returned.
 */
@Injectable()
export class ChannelsService {
  constructor(
    private readonly repo: AlertChannelsRepository,
    private readonly registry: ChannelRegistry,
    private readonly http: ChannelHttpRepository,
    private readonly delivery: ChannelDeliveryService,
    private readonly chatter: ChatterRepository,
    private readonly settings: SettingsService,
    private readonly i18n: I18nService,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  kinds(): ChannelKindResponse[] {
    return this.registry.kinds.map((kind) => {
      const channel = this.registry.find(kind)!;
      const policy = this.delivery.policy(channel);
      return {
        kind,
        settings: channel.settings.map((s) => ({
          name: s.name,
          required: s.required,
          secret: s.secret ?? false,
          url: s.url ?? false,
          default: s.default ?? null,
        })),
        retry: {
          max_attempts: policy.maxAttempts,
          backoff_seconds: policy.backoffSeconds,
          timeout_seconds: policy.timeoutSeconds,
        },
      };
    });
  }

  async list(_ctx: RequestContext, partnerId: number): Promise<ChannelResponse[]> {
    return (await this.repo.list(partnerId)).map((row) => this.toResponse(row));
  }

  async create(_ctx: RequestContext, partnerId: number, dto: CreateChannelDto): Promise<ChannelResponse> {
    const channel = this.channel(dto.kind);
    const settings = await this.validSettings(channel, {}, dto.settings);
    const id = await this.repo.create({
      partnerId,
      kind: channel.kind,
      name: dto.name,
      settings,
      subtypeIds: await this.subtypeIds(dto.subtypes),
      now: this.clock.now(),
    });
    return this.toResponse((await this.repo.find(id))!);
  }

  async update(
    _ctx: RequestContext,
    partnerId: number,
    id: number,
    dto: UpdateChannelDto,
  ): Promise<ChannelResponse> {
    const row = await this.owned(partnerId, id);
    const settings = dto.settings
      ? await this.validSettings(this.channel(row.kind), row.settings, dto.settings)
      : undefined;
    await this.repo.update(id, {
      name: dto.name,
      settings,
      subtypeIds: dto.subtypes === undefined ? undefined : await this.subtypeIds(dto.subtypes),
      active: dto.active,
    });
    return this.toResponse((await this.repo.find(id))!);
  }

  async remove(_ctx: RequestContext, partnerId: number, id: number): Promise<void> {
    await this.owned(partnerId, id);
    await this.repo.delete(id);
  }

  /** Sends a test message now, outside the outbox (no retry, no failure count). */
  async test(ctx: RequestContext, partnerId: number, id: number): Promise<ChannelTestResponse> {
    const row = await this.owned(partnerId, id);
    const channel = this.channel(row.kind);
    const partner = await this.repo.partner(partnerId);
    const lang = partner?.lang ?? ctx.lang;
    const baseUrl = (await this.settings.get(BASE_URL)).replace(/(?<!\/)\/+$/, '');
    const result = await this.delivery.send(
      channel,
      row.settings,
      {
        id: randomUUID(),
        createdAt: this.clock.now().toISOString(),
        subject: this.i18n.t('mail.channels.test_subject', lang),
        text: this.i18n.t('mail.channels.test_body', lang, { name: row.name }),
        author: null,
        subtype: null,
        record: null,
        link: baseUrl || null,
        tracking: [],
        test: true,
      },
      await this.allowPrivate(),
    );
    // The status only, never what the receiver wrote back: "test" must not read internal pages for the caller.
    return result.ok
      ? { delivered: true, status: result.status, error: null }
      : { delivered: false, status: result.status ?? null, error: result.error };
  }

  listForContact(ctx: RequestContext, partnerId: number) {
    return this.contact(partnerId).then(() => this.list(ctx, partnerId));
  }

  createForContact(ctx: RequestContext, partnerId: number, dto: CreateChannelDto) {
    return this.contact(partnerId).then(() => this.create(ctx, partnerId, dto));
  }

  updateForContact(ctx: RequestContext, partnerId: number, id: number, dto: UpdateChannelDto) {
    return this.contact(partnerId).then(() => this.update(ctx, partnerId, id, dto));
  }

  removeForContact(ctx: RequestContext, partnerId: number, id: number) {
    return this.contact(partnerId).then(() => this.remove(ctx, partnerId, id));
  }

  testForContact(ctx: RequestContext, partnerId: number, id: number) {
    return this.contact(partnerId).then(() => this.test(ctx, partnerId, id));
  }

  /** A customer's contact: a partner without a user account (users manage their own channels). */
  private async contact(partnerId: number): Promise<void> {
    const partner = await this.repo.partner(partnerId);
    if (!partner) throw notFound('partner', partnerId);
    if (partner.isUser) throw badRequest('mail.channels.errors.user_partner', { partner: partner.name });
  }

  private async owned(partnerId: number, id: number): Promise<ChannelRow> {
    const row = await this.repo.find(id);
    if (!row || row.partnerId !== partnerId) throw notFound('channel', id);
    return row;
  }

  private channel(kind: string): AlertChannel {
    const channel = this.registry.find(kind);
    if (!channel)
      throw badRequest('mail.channels.errors.unknown_kind', { kind, kinds: this.registry.kinds.join(', ') });
    return channel;
  }

  private allowPrivate(): Promise<boolean> {
    return this.settings.get(ALLOW_PRIVATE_NETWORKS);
  }

  /** `given` over `current`, checked: known names, strings, required ones present, patterns, URLs allowed. */
  private async validSettings(
    channel: AlertChannel,
    current: Record<string, string>,
    given: Record<string, unknown>,
  ): Promise<Record<string, string>> {
    const names = new Set(channel.settings.map((s) => s.name));
    const unknown = Object.keys(given).filter((name) => !names.has(name));
    if (unknown.length)
      throw badRequest('mail.channels.errors.unknown_setting', {
        setting: unknown.join(', '),
        kind: channel.kind,
      });
    const settings = { ...current };
    // Secrets given anew (not kept from the stored settings by sending the mask back or leaving them out).
    const resent = new Set<string>();
    for (const [name, value] of Object.entries(given)) {
      // A form that sends back what it read keeps the secret.
      if (value === MASK) continue;
      resent.add(name);
      if (value === null || value === '') delete settings[name];
      else if (typeof value !== 'string')
        throw badRequest('mail.channels.errors.invalid_setting', { setting: name });
      else settings[name] = value.trim();
    }
    // A stored secret goes only where it went when it was typed: whoever changes an address (a Pushover API URL,
    // an ntfy server…) types the secrets again, or could send them to a receiver of their own with "test".
    const effective = (values: Record<string, string>, spec: ChannelSettingSpec) =>
      values[spec.name] ?? spec.default;
    const moved = channel.settings.find(
      (spec) => spec.url && effective(settings, spec) !== effective(current, spec),
    );
    if (moved) {
      const kept = channel.settings.find(
        (spec) => spec.secret && !resent.has(spec.name) && current[spec.name] !== undefined,
      );
      if (kept)
        throw badRequest('mail.channels.errors.secret_required', { url: moved.name, setting: kept.name });
    }
    const allowPrivate = await this.allowPrivate();
    for (const spec of channel.settings) {
      const value = settings[spec.name];
      if (value === undefined) {
        if (spec.required) throw badRequest('mail.channels.errors.missing_setting', { setting: spec.name });
        continue;
      }
      if (spec.pattern && !spec.pattern.test(value))
        throw badRequest('mail.channels.errors.invalid_setting', { setting: spec.name });
      if (spec.url) {
        try {
          await this.http.check(value, allowPrivate);
        } catch (error) {
          // The reason names the host and the address, never the URL's path (a Slack URL's path is its secret).
          const reason = error instanceof Error ? error.message : String(error);
          throw new AppException(HttpStatus.BAD_REQUEST, 'mail.channels.errors.url_refused', {
            setting: spec.name,
            reason: error instanceof AddressRefusedError ? reason : reason.replace(/\/.*/, ''),
          });
        }
      }
    }
    return settings;
  }

  private async subtypeIds(keys: string[] | null | undefined): Promise<number[] | null> {
    if (keys === null || keys === undefined) return null;
    const ids = await this.chatter.subtypeIds(keys);
    const unknown = keys.filter((key) => !ids.has(key));
    if (unknown.length) throw badRequest('mail.errors.unknown_subtype', { subtype: unknown.join(', ') });
    return [...ids.values()];
  }

  private toResponse(row: ChannelRow): ChannelResponse {
    const known = this.registry.find(row.kind) !== undefined;
    const secret = new Set(
      this.registry
        .find(row.kind)
        ?.settings.filter((s) => s.secret)
        .map((s) => s.name),
    );
    return {
      id: row.id,
      partner_id: row.partnerId,
      kind: row.kind,
      name: row.name,
      settings: Object.fromEntries(
        Object.entries(row.settings).map(([name, value]) => [
          name,
          secret.has(name) || !known ? MASK : value,
        ]),
      ),
      subtypes: row.subtypes,
      active: row.active,
      consecutive_failures: row.consecutiveFailures,
      last_error: row.lastError,
      disabled_at: row.disabledAt && new Date(row.disabledAt).toISOString(),
      created_at: new Date(row.createdAt).toISOString(),
    };
  }
}
