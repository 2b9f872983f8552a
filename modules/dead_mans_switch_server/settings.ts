/** The addon's system parameters and their defaults (seeded by the manifest, editable by administrators). */
export const SETTINGS = {
  /** Check-in logs older than this are deleted by the retention task. */
  logRetentionDays: 'dead_mans_switch.log_retention_days',
  /** New instances one source address may register per hour. */
  maxRegistrationsPerHour: 'dead_mans_switch.max_registrations_per_hour',
  /** Check-ins one source address may send per minute, all uuids together; 0 turns the limit off. */
  checkInsPerSourcePerMinute: 'dead_mans_switch.checkins_per_source_per_minute',
  /** A watchdog silent longer than this (server down, database unreachable) gives due instances a grace. */
  watchdogGapSeconds: 'dead_mans_switch.watchdog_gap_seconds',
} as const;

export const SETTING_DEFAULTS: Record<string, string> = {
  [SETTINGS.logRetentionDays]: '365',
  [SETTINGS.maxRegistrationsPerHour]: '20',
  // A hosting company may have hundreds of databases behind one address, each checking in every few minutes.
  [SETTINGS.checkInsPerSourcePerMinute]: '1200',
  [SETTINGS.watchdogGapSeconds]: '180',
};

/** One uuid may check in this often: far above any client's rhythm (every few minutes, retries included). */
export const CHECKINS_PER_UUID_PER_MINUTE = 30;

/** Largest accepted check-in body. */
export const MAX_BODY_BYTES = 16 * 1024;

/** The thread model of instances and the external ids of their subtypes. */
export const INSTANCE_MODEL = 'dead_mans_switch.instance';
export const SUBTYPE_DOWN = 'dead_mans_switch.mt_instance_down';
export const SUBTYPE_UP = 'dead_mans_switch.mt_instance_up';

/** Reads a numeric setting, falling back to its default when unset or malformed. */
export function numericSetting(key: string, value: string | undefined): number {
  const parsed = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(parsed) && parsed >= 0
    ? parsed
    : Number(SETTING_DEFAULTS[key]);
}
