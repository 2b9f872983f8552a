import { defineSetting, type SubtypeSeed } from '../../src/index.js';
import { INSTANCE_MODEL } from '../dead_mans_switch_server/settings.js';

/** The probes' system parameters (registered by the manifest with the addon's other settings). */
export const PROBE_SETTING = {
  /** Consecutive failures of a probe before its down alert is posted. */
  failuresBeforeAlert: defineSetting.integer({
    key: 'dead_mans_switch.probe_failures_before_alert',
    default: 2,
    min: 1,
    max: 100,
    description: 'dead_mans_switch_server.settings.probe_failures_before_alert',
  }),
  /** On: probes may reach loopback and private networks (link-local and metadata addresses never). */
  privateNetworks: defineSetting.boolean({
    key: 'dead_mans_switch.probe_private_networks',
    default: false,
    description: 'dead_mans_switch_server.settings.probe_private_networks',
  }),
  /** Probe results older than this are deleted daily; 0 keeps them all. */
  retentionDays: defineSetting.integer({
    key: 'dead_mans_switch.probe_retention_days',
    default: 30,
    min: 0,
    max: 36_500,
    unit: 'core.settings.units.days',
    description: 'dead_mans_switch_server.settings.probe_retention_days',
  }),
};

/** Their keys (tests and SQL name settings by key). */
export const PROBE_SETTINGS = {
  failuresBeforeAlert: PROBE_SETTING.failuresBeforeAlert.key,
  privateNetworks: PROBE_SETTING.privateNetworks.key,
  retentionDays: PROBE_SETTING.retentionDays.key,
} as const;

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
