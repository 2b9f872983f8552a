export const URL_SETTING = 'dead_mans_switch_client.url';
export const SEND_TIMEOUT_SETTING = 'dead_mans_switch_client.send_timeout';
export const INTERVAL_SETTING = 'dead_mans_switch_client.interval';
/**
 * The instance's check-in token, when the server gave it one (Vigil's server: `POST …/instances/:id/token`): sent
 * in the `X-Vigil-Token` header. Empty: none is sent (an OCA server, or an instance without a token).
 */
export const TOKEN_SETTING = 'dead_mans_switch_client.token';
/** The header that carries it, as Vigil's server reads it. */
export const TOKEN_HEADER = 'X-Vigil-Token';
/** Overrides the URL setting (containers configure through the environment). */
export const URL_ENV = 'DEAD_MANS_SWITCH_CLIENT_URL';

export const DEFAULT_SEND_TIMEOUT = 60;
export const DEFAULT_INTERVAL = 300;

/** The scheduler task that checks, every TASK_PERIOD seconds, whether a check-in is due. */
export const CHECK_IN_TASK = 'dead_mans_switch_client.check_in';
export const TASK_PERIOD = 15;

/** First retry after a failure; each next one waits twice as long, never longer than the interval. */
export const RETRY_BASE_SECONDS = 30;
