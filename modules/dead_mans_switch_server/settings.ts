/** The addon's system parameters and their defaults (seeded by the manifest, editable by administrators). */
export const SETTINGS = {
  /** Check-in logs older than this are dropped, a day's partition at a time, by the retention task; 0 keeps all. */
  logRetentionDays: 'dead_mans_switch.log_retention_days',
  /** Hourly roll-ups of the check-in logs (what the charts read) older than this are dropped; 0 keeps all. */
  rollupRetentionDays: 'dead_mans_switch.rollup_retention_days',
  /** New instances one source address may register per hour. */
  maxRegistrationsPerHour: 'dead_mans_switch.max_registrations_per_hour',
  /** New instances all sources together may register per hour (counted in the database, across replicas). */
  maxRegistrationsGlobalPerHour: 'dead_mans_switch.max_registrations_global_per_hour',
  /** `new` instances (never activated) older than this many days are deleted by a daily task; 0 keeps them. */
  newInstanceMaxAgeDays: 'dead_mans_switch.new_instance_max_age_days',
  /** Check-ins one source address may send per minute, all uuids together; 0 turns the limit off. */
  checkInsPerSourcePerMinute: 'dead_mans_switch.checkins_per_source_per_minute',
  /** A watchdog silent longer than this (server down, database unreachable) gives due instances a grace. */
  watchdogGapSeconds: 'dead_mans_switch.watchdog_gap_seconds',
  /** Bounds of the `next_in` a check-in may announce, in seconds. */
  nextInMinSeconds: 'dead_mans_switch.next_in_min_seconds',
  nextInMaxSeconds: 'dead_mans_switch.next_in_max_seconds',
  /** Events at or above this level are posted in the instance's chatter (followers are told). */
  eventAlertLevel: 'dead_mans_switch.event_alert_level',
  /** Events older than this are deleted by the retention task; 0 keeps them all. */
  eventRetentionDays: 'dead_mans_switch.event_retention_days',
  /** More down alerts than this to one follower in one watchdog pass: one incident message instead. */
  stormThreshold: 'dead_mans_switch.storm_threshold',
  /** Recoveries of a storm are told together once none came for this long (or all came). */
  stormWindowSeconds: 'dead_mans_switch.storm_window_seconds',
} as const;

export const SETTING_DEFAULTS: Record<string, string> = {
  [SETTINGS.logRetentionDays]: '365',
  [SETTINGS.rollupRetentionDays]: '730',
  [SETTINGS.maxRegistrationsPerHour]: '20',
  // Far above a hosting company's onboarding pace; bounds a flood from many addresses (or many /64s).
  [SETTINGS.maxRegistrationsGlobalPerHour]: '100',
  [SETTINGS.newInstanceMaxAgeDays]: '30',
  // A hosting company may have hundreds of databases behind one address, each checking in every few minutes.
  [SETTINGS.checkInsPerSourcePerMinute]: '1200',
  [SETTINGS.watchdogGapSeconds]: '180',
  [SETTINGS.nextInMinSeconds]: '60',
  [SETTINGS.nextInMaxSeconds]: String(31 * 86_400),
  [SETTINGS.eventAlertLevel]: 'error',
  [SETTINGS.eventRetentionDays]: '365',
  [SETTINGS.stormThreshold]: '10',
  [SETTINGS.stormWindowSeconds]: '120',
};

/** One uuid may check in this often: far above any client's rhythm (every few minutes, retries included). */
export const CHECKINS_PER_UUID_PER_MINUTE = 30;

/** Largest accepted check-in body. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The unauthenticated endpoints instances call: same hardening, same body limit. */
export const INSTANCE_ENDPOINTS = [
  '/dead_mans_switch/alive',
  '/dead_mans_switch/cancel',
  '/dead_mans_switch/event',
] as const;

/** The thread model of instances and the external ids of their subtypes. */
export const INSTANCE_MODEL = 'dead_mans_switch.instance';
export const SUBTYPE_DOWN = 'dead_mans_switch.mt_instance_down';
export const SUBTYPE_UP = 'dead_mans_switch.mt_instance_up';
export const SUBTYPE_EVENT = 'dead_mans_switch.mt_instance_event';
export const SUBTYPE_CANCELLED = 'dead_mans_switch.mt_instance_cancelled';

/** Longest event message, in characters. */
export const MAX_EVENT_MESSAGE = 4000;

/** Reads a numeric setting, falling back to its default when unset or malformed. */
export function numericSetting(key: string, value: string | undefined): number {
  const parsed = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(parsed) && parsed >= 0
    ? parsed
    : Number(SETTING_DEFAULTS[key]);
}
