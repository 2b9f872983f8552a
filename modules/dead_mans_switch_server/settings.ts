import { defineSetting } from '../../src/index.js';
import { EVENT_LEVEL_NAMES } from './instance-event.entity.js';

const DAYS = 'core.settings.units.days';
const SECONDS = 'core.settings.units.seconds';
const d = (name: string) => `dead_mans_switch_server.settings.${name}`;
/** A century: "keep for ever" is 0, not a huge number. */
const MAX_DAYS = 36_500;

/** The addon's system parameters, declared once (type, default, range, description): the manifest registers them. */
export const DMS_SETTINGS = {
  /** Check-in logs older than this are dropped, a day's partition at a time, by the retention task; 0 keeps all. */
  logRetentionDays: defineSetting.integer({
    key: 'dead_mans_switch.log_retention_days',
    default: 365,
    min: 0,
    max: MAX_DAYS,
    unit: DAYS,
    description: d('log_retention_days'),
  }),
  /** Hourly roll-ups of the check-in logs (what the charts read) older than this are dropped; 0 keeps all. */
  rollupRetentionDays: defineSetting.integer({
    key: 'dead_mans_switch.rollup_retention_days',
    default: 730,
    min: 0,
    max: MAX_DAYS,
    unit: DAYS,
    description: d('rollup_retention_days'),
  }),
  /** New instances one source address may register per hour. */
  maxRegistrationsPerHour: defineSetting.integer({
    key: 'dead_mans_switch.max_registrations_per_hour',
    default: 20,
    min: 0,
    max: 1_000_000,
    description: d('max_registrations_per_hour'),
  }),
  /** New instances all sources together may register per hour (counted in the database, across replicas). */
  maxRegistrationsGlobalPerHour: defineSetting.integer({
    key: 'dead_mans_switch.max_registrations_global_per_hour',
    // Far above a hosting company's onboarding pace; bounds a flood from many addresses (or many /64s).
    default: 100,
    min: 0,
    max: 1_000_000,
    description: d('max_registrations_global_per_hour'),
  }),
  /** `new` instances (never activated) older than this many days are deleted by a daily task; 0 keeps them. */
  newInstanceMaxAgeDays: defineSetting.integer({
    key: 'dead_mans_switch.new_instance_max_age_days',
    default: 30,
    min: 0,
    max: MAX_DAYS,
    unit: DAYS,
    description: d('new_instance_max_age_days'),
  }),
  /** Check-ins one source address may send per minute, all uuids together; 0 turns the limit off. */
  checkInsPerSourcePerMinute: defineSetting.integer({
    key: 'dead_mans_switch.checkins_per_source_per_minute',
    // A hosting company may have hundreds of databases behind one address, each checking in every few minutes.
    default: 1200,
    min: 0,
    max: 1_000_000,
    description: d('checkins_per_source_per_minute'),
  }),
  /** A watchdog silent longer than this (server down, database unreachable) gives due instances a grace. */
  watchdogGapSeconds: defineSetting.integer({
    key: 'dead_mans_switch.watchdog_gap_seconds',
    default: 180,
    // The watchdog runs every 30 s: a shorter gap would see an outage in every pass.
    min: 30,
    max: 7 * 86_400,
    unit: SECONDS,
    description: d('watchdog_gap_seconds'),
  }),
  /** Bounds of the `next_in` a check-in may announce, in seconds. */
  nextInMinSeconds: defineSetting.integer({
    key: 'dead_mans_switch.next_in_min_seconds',
    default: 60,
    min: 1,
    max: 366 * 86_400,
    unit: SECONDS,
    description: d('next_in_min_seconds'),
  }),
  nextInMaxSeconds: defineSetting.integer({
    key: 'dead_mans_switch.next_in_max_seconds',
    default: 31 * 86_400,
    min: 1,
    max: 366 * 86_400,
    unit: SECONDS,
    description: d('next_in_max_seconds'),
  }),
  /** Events at or above this level are posted in the instance's chatter (followers are told). */
  eventAlertLevel: defineSetting.enum({
    key: 'dead_mans_switch.event_alert_level',
    default: 'error',
    values: EVENT_LEVEL_NAMES,
    description: d('event_alert_level'),
  }),
  /** Events older than this are deleted by the retention task; 0 keeps them all. */
  eventRetentionDays: defineSetting.integer({
    key: 'dead_mans_switch.event_retention_days',
    default: 365,
    min: 0,
    max: MAX_DAYS,
    unit: DAYS,
    description: d('event_retention_days'),
  }),
  /** More down alerts than this to one follower in one watchdog pass: one incident message instead. */
  stormThreshold: defineSetting.integer({
    key: 'dead_mans_switch.storm_threshold',
    default: 10,
    min: 1,
    max: 100_000,
    description: d('storm_threshold'),
  }),
  /** Recoveries of a storm are told together once none came for this long (or all came). */
  stormWindowSeconds: defineSetting.integer({
    key: 'dead_mans_switch.storm_window_seconds',
    default: 120,
    min: 1,
    max: 86_400,
    unit: SECONDS,
    description: d('storm_window_seconds'),
  }),
};

/** The keys of DMS_SETTINGS, e.g. `SETTINGS.stormThreshold` = `dead_mans_switch.storm_threshold`. */
export const SETTINGS = Object.fromEntries(
  Object.entries(DMS_SETTINGS).map(([name, setting]) => [name, setting.key]),
) as { readonly [K in keyof typeof DMS_SETTINGS]: string };

/** One uuid may check in this often: far above any client's rhythm (every few minutes, retries included). */
export const CHECKINS_PER_UUID_PER_MINUTE = 30;

/** Largest accepted check-in body. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The unauthenticated endpoints instances call: same hardening, same body limit. */
export const INSTANCE_ENDPOINTS = [
  '/dead_mans_switch/alive',
  '/dead_mans_switch/cancel',
  '/dead_mans_switch/event',
  '/dead_mans_switch/start',
] as const;

/** The thread model of instances and the external ids of their subtypes. */
export const INSTANCE_MODEL = 'dead_mans_switch.instance';
export const SUBTYPE_DOWN = 'dead_mans_switch.mt_instance_down';
export const SUBTYPE_UP = 'dead_mans_switch.mt_instance_up';
export const SUBTYPE_EVENT = 'dead_mans_switch.mt_instance_event';
export const SUBTYPE_CANCELLED = 'dead_mans_switch.mt_instance_cancelled';

/** Longest event message, in characters. */
export const MAX_EVENT_MESSAGE = 4000;
