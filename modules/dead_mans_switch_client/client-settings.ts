import { defineSetting } from '../../src/index.js';

export const DEFAULT_SEND_TIMEOUT = 60;
export const DEFAULT_INTERVAL = 300;

/** The addon's settings, registered by its manifest. */
export const CLIENT_SETTINGS = {
  /** The server's alive endpoint; none when empty (the environment variable URL_ENV overrides it). */
  url: defineSetting.url({
    key: 'dead_mans_switch_client.url',
    default: '',
    optional: true,
    description: 'dead_mans_switch_client.settings.url',
  }),
  sendTimeout: defineSetting.number({
    key: 'dead_mans_switch_client.send_timeout',
    default: DEFAULT_SEND_TIMEOUT,
    min: 0.1,
    max: 600,
    unit: 'core.settings.units.seconds',
    description: 'dead_mans_switch_client.settings.send_timeout',
  }),
  interval: defineSetting.integer({
    key: 'dead_mans_switch_client.interval',
    default: DEFAULT_INTERVAL,
    min: 1,
    max: 86_400,
    unit: 'core.settings.units.seconds',
    description: 'dead_mans_switch_client.settings.interval',
  }),
  /**
   * The instance's check-in token, when the server gave it one (Vigil's server: `POST …/instances/:id/token`): sent
   * in the `X-Vigil-Token` header. Empty: none is sent (an OCA server, or an instance without a token). A secret:
   * stored encrypted, never shown in clear.
   */
  token: defineSetting.secret({
    key: 'dead_mans_switch_client.token',
    maxLength: 200,
    description: 'dead_mans_switch_client.settings.token',
  }),
};

export const URL_SETTING = CLIENT_SETTINGS.url.key;
export const SEND_TIMEOUT_SETTING = CLIENT_SETTINGS.sendTimeout.key;
export const INTERVAL_SETTING = CLIENT_SETTINGS.interval.key;
export const TOKEN_SETTING = CLIENT_SETTINGS.token.key;
/** The header that carries the token, as Vigil's server reads it. */
export const TOKEN_HEADER = 'X-Vigil-Token';
/** Overrides the URL setting (containers configure through the environment). */
export const URL_ENV = 'DEAD_MANS_SWITCH_CLIENT_URL';

/** The scheduler task that checks, every TASK_PERIOD seconds, whether a check-in is due. */
export const CHECK_IN_TASK = 'dead_mans_switch_client.check_in';
export const TASK_PERIOD = 15;

/** First retry after a failure; each next one waits twice as long, never longer than the interval. */
export const RETRY_BASE_SECONDS = 30;
