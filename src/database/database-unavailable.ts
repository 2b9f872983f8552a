/** Network-level failures of a connection to PostgreSQL. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/** What pg says when a pooled connection cannot be had or was lost (it sets no code on these). */
const LOST_CONNECTION =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

/**
 * Whether an error means that the database cannot be reached right now (down, restarting, refusing connections, or
 * no pooled connection free in time), as opposed to a fault of the request. SQLSTATE classes 08 (connection
 * exception) and 57P0x (the server shutting down or starting) count. Looks through TypeORM's `driverError` and
 * `cause` chains.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, message, driverError, cause } = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (
      typeof code === 'string' &&
      (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[1-4]$/.test(code))
    )
      return true;
    if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
    current = driverError ?? cause;
  }
  return false;
}
