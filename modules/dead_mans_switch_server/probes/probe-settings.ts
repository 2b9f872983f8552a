import type { SubtypeSeed } from '../../../src/index.js';
import { INSTANCE_MODEL } from '../settings.js';

/** The probes' system parameters (seeded by the manifest with the addon's other settings). */
export const PROBE_SETTINGS = {
  /** Consecutive failures of a probe before its down alert is posted. */
  failuresBeforeAlert: 'dead_mans_switch.probe_failures_before_alert',
  /** `1`: probes may reach loopback and private networks (link-local and metadata addresses never). */
  privateNetworks: 'dead_mans_switch.probe_private_networks',
  /** Probe results older than this are deleted daily; 0 keeps them all. */
  retentionDays: 'dead_mans_switch.probe_retention_days',
} as const;

export const PROBE_SETTING_DEFAULTS: Record<string, string> = {
  [PROBE_SETTINGS.failuresBeforeAlert]: '2',
  [PROBE_SETTINGS.privateNetworks]: '0',
  [PROBE_SETTINGS.retentionDays]: '30',
};

export const PROBE_MODEL = 'dead_mans_switch.probe';
export const SUBTYPE_PROBE_DOWN = 'dead_mans_switch.mt_probe_down';
export const SUBTYPE_PROBE_UP = 'dead_mans_switch.mt_probe_up';

export const PROBE_SUBTYPES: SubtypeSeed[] = [
  {
    key: SUBTYPE_PROBE_DOWN,
    name: 'dead_mans_switch_server.probes.subtypes.probe_down',
    default: true,
    internal: false,
    model: INSTANCE_MODEL,
  },
  {
    key: SUBTYPE_PROBE_UP,
    name: 'dead_mans_switch_server.probes.subtypes.probe_up',
    default: true,
    internal: false,
    model: INSTANCE_MODEL,
  },
];

/** Reads a numeric probe setting, falling back to its default when unset or malformed. */
export function probeSetting(key: string, value: string | undefined): number {
  const parsed = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(parsed) && parsed >= 0
    ? parsed
    : Number(PROBE_SETTING_DEFAULTS[key]);
}
