/** The check-in a client sends, validated: only the known statistics, each of the right type. */
export interface CheckIn {
  databaseUuid: string;
  cpu: number | null;
  ram: number | null;
  userCount: number | null;
  dbSize: number | null;
  diskFree: number | null;
  diskTotal: number | null;
  lastBackupAt: Date | null;
  version: string | null;
  uptime: number | null;
  /** Seconds until the next check-in at worst, as sent (bounded by the settings when stored). */
  nextIn: number | null;
  /** The statistics sent but not kept as they were (dropped to null, or cut): the check-in still counts. */
  ignored: IgnoredStatistic[];
}

/**
 * A statistic a check-in carried that could not be stored as sent: out of its range, of the wrong type, or too
 * long. The heartbeat is never lost for it; the value is dropped (or cut, for free text) and flagged.
 */
export interface IgnoredStatistic {
  field: string;
  /** What was sent, as JSON (at most 100 characters, for people to read). */
  value: string;
  /** Why: a key of the addon (`dead_mans_switch_server.ignored.<reason>`) and its arguments. */
  key: string;
  args: Record<string, string | number>;
}

/** Why a check-in is refused: a translation key of the addon's namespace and its arguments. */
export interface PayloadError {
  key: string;
  args: Record<string, string | number>;
}

/** The two wire forms: Odoo's JSON-RPC envelope (as the OCA clients send it) and plain JSON. */
export type AliveRequest =
  { form: 'jsonrpc'; id: string | number | null; params: unknown } | { form: 'plain'; params: unknown };

// Any UUID version: Odoo generates `database.uuid` with uuid1, Vigil with uuid4.
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const MAX_VERSION_LENGTH = 100;
/** `cpu` is in percent of one core (psutil's `cpu_percent`): up to 100 per core; 1024 cores is the ceiling. */
export const MAX_CPU_PERCENT = 100 * 1024;
const MAX_INT4 = 2_147_483_647;
const MAX_SHOWN_VALUE = 100;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Tells the envelope from plain JSON: a JSON-RPC request names its protocol or its method and params. */
export function readEnvelope(body: unknown): AliveRequest {
  if (isObject(body) && ('jsonrpc' in body || ('method' in body && 'params' in body))) {
    const id = body.id;
    return {
      form: 'jsonrpc',
      id: typeof id === 'string' || typeof id === 'number' ? id : null,
      params: body.params,
    };
  }
  return { form: 'plain', params: body };
}

/** A check-in that carries nothing but the uuid. */
export const emptyCheckIn = (databaseUuid: string): CheckIn => ({
  databaseUuid,
  cpu: null,
  ram: null,
  userCount: null,
  dbSize: null,
  diskFree: null,
  diskTotal: null,
  lastBackupAt: null,
  version: null,
  uptime: null,
  nextIn: null,
  ignored: [],
});

const fail = (key: string, args: Record<string, string | number> = {}) => ({ error: { key, args } }) as const;

/** The object and its `database_uuid`, normalised: what every instance endpoint reads first. */
export function parseDatabaseUuid(
  params: unknown,
): { params: Record<string, unknown>; databaseUuid: string } | { error: PayloadError } {
  if (!isObject(params)) return fail('dead_mans_switch_server.errors.not_an_object');
  const uuid = params.database_uuid;
  if (uuid === undefined || uuid === null || uuid === '')
    return fail('dead_mans_switch_server.errors.uuid_missing');
  if (typeof uuid !== 'string' || !UUID.test(uuid.trim()))
    return fail('dead_mans_switch_server.errors.uuid_invalid');
  return { params, databaseUuid: uuid.trim().toLowerCase() };
}

/** The sent value as people read it, short. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE - 1)}…` : text;
}

const IGNORED = 'dead_mans_switch_server.ignored';

/**
 * Validates the parameters of a check-in. Only a missing or invalid `database_uuid` (or an unreadable `next_in`) refuses it: a statistic of
 * the wrong type or out of its range is dropped (stored as null) and listed in `ignored`, so that a client with
 * a broken statistic still keeps its instance up. Unknown keys are ignored.
 */
export function parseCheckIn(input: unknown): { checkIn: CheckIn } | { error: PayloadError } {
  const identified = parseDatabaseUuid(input);
  if ('error' in identified) return identified;
  const { params, databaseUuid } = identified;

  const ignored: IgnoredStatistic[] = [];
  const ignore = (field: string, reason: string, args: Record<string, string | number> = {}) =>
    ignored.push({
      field,
      value: shown(params[field]),
      key: `${IGNORED}.${reason}`,
      args: { field, ...args },
    });
  const number = (
    field: string,
    options: { max: number; integer?: 'round' | 'exact'; unit?: 'percent' },
  ): number | null => {
    const value = params[field];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      ignore(field, 'not_a_number');
      return null;
    }
    if (value < 0 || value > options.max) {
      ignore(field, options.unit === 'percent' ? 'percent_out_of_range' : 'out_of_range', {
        max: options.max,
      });
      return null;
    }
    if (options.integer === 'exact' && !Number.isInteger(value)) {
      ignore(field, 'not_a_whole_number');
      return null;
    }
    // Sizes and durations may come as floats from some clients: whole units are enough.
    return options.integer ? Math.round(value) : value;
  };
  // Integers beyond 2^53 are not exact in JavaScript: dropped rather than stored rounded.
  const checkIn: CheckIn = {
    databaseUuid,
    cpu: number('cpu', { max: MAX_CPU_PERCENT }),
    ram: number('ram', { max: 100, unit: 'percent' }),
    userCount: number('user_count', { integer: 'exact', max: MAX_INT4 }),
    dbSize: number('db_size', { integer: 'round', max: Number.MAX_SAFE_INTEGER }),
    diskFree: number('disk_free', { integer: 'round', max: Number.MAX_SAFE_INTEGER }),
    diskTotal: number('disk_total', { integer: 'round', max: Number.MAX_SAFE_INTEGER }),
    uptime: number('uptime', { integer: 'round', max: Number.MAX_SAFE_INTEGER }),
    nextIn: number('next_in', { integer: 'round', max: MAX_INT4 }),
    lastBackupAt: null,
    version: null,
    ignored,
  };
  // `next_in` is not a statistic but the deadline the client asks for: guessing another one would raise false
  // alarms (or hide real ones), so a value that cannot be read refuses the check-in, naming the field.
  const badNextIn = ignored.find((problem) => problem.field === 'next_in');
  if (badNextIn) return fail('dead_mans_switch_server.errors.not_a_number', { field: 'next_in' });
  if (checkIn.diskFree !== null && checkIn.diskTotal !== null && checkIn.diskFree > checkIn.diskTotal) {
    ignore('disk_free', 'above_total', { total: checkIn.diskTotal });
    checkIn.diskFree = null;
  }
  const backup = params.last_backup_at;
  if (backup !== undefined && backup !== null) {
    const time = typeof backup === 'string' && ISO_TIME.test(backup.trim()) ? new Date(backup.trim()) : null;
    if (!time || Number.isNaN(time.getTime())) ignore('last_backup_at', 'not_a_time');
    else checkIn.lastBackupAt = time;
  }
  const version = params.version;
  if (version !== undefined && version !== null) {
    if (typeof version !== 'string') ignore('version', 'not_text');
    else {
      // PostgreSQL text cannot hold NUL; a free text too long is cut, visibly (flagged), not refused.
      const text = version.replaceAll('\u0000', '').trim();
      if (text.length > MAX_VERSION_LENGTH) ignore('version', 'cut', { max: MAX_VERSION_LENGTH });
      checkIn.version = text.slice(0, MAX_VERSION_LENGTH).trim() || null;
    }
  }
  return { checkIn };
}
