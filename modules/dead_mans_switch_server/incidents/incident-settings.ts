import { defineSetting } from '../../../src/index.js';

/** Settings of incidents, acknowledge links and escalation (the manifest registers them). */
export const INCIDENT_SETTINGS = {
  /** How long an acknowledge link in an e-mail or chat message works after the message was written. */
  ackLinkSeconds: defineSetting.integer({
    key: 'dead_mans_switch.ack_link_seconds',
    default: 86_400,
    min: 300,
    max: 30 * 86_400,
    unit: 'core.settings.units.seconds',
    description: 'dead_mans_switch_server.settings.ack_link_seconds',
  }),
};
