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

/**
 * Validates the parameters of a check-in. Unknown keys are ignored; a known key with a value of the wrong type
 * refuses the check-in with a message that names it.
 */
export function parseCheckIn(input: unknown): { checkIn: CheckIn } | { error: PayloadError } {
  const identified = parseDatabaseUuid(input);
  if ('error' in identified) return identified;
  const { params, databaseUuid } = identified;

  const problems: PayloadError[] = [];
  const number = (field: string, options: { integer?: boolean; max?: number } = {}): number | null => {
    const value = params[field];
    if (value === undefined || value === null) return null;
    // Integers beyond 2^53 are not exact in JavaScript: refused rather than stored rounded.
    const max = options.max ?? (options.integer ? Number.MAX_SAFE_INTEGER : 1e18);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
      problems.push({ key: 'dead_mans_switch_server.errors.not_a_number', args: { field } });
      return null;
    }
    // Sizes and durations may come as floats from some clients: whole units are enough.
    return options.integer ? Math.round(value) : value;
  };
  const checkIn: CheckIn = {
    databaseUuid,
    cpu: number('cpu', { max: 1e6 }),
    ram: number('ram', { max: 1e6 }),
    userCount: number('user_count', { integer: true, max: 2_147_483_647 }),
    dbSize: number('db_size', { integer: true }),
    diskFree: number('disk_free', { integer: true }),
    diskTotal: number('disk_total', { integer: true }),
    uptime: number('uptime', { integer: true }),
    nextIn: number('next_in', { integer: true, max: 2_147_483_647 }),
    lastBackupAt: null,
    version: null,
  };
  const backup = params.last_backup_at;
  if (backup !== undefined && backup !== null) {
    const time = typeof backup === 'string' && ISO_TIME.test(backup.trim()) ? new Date(backup.trim()) : null;
    if (!time || Number.isNaN(time.getTime()))
      problems.push({ key: 'dead_mans_switch_server.errors.not_a_time', args: { field: 'last_backup_at' } });
    else checkIn.lastBackupAt = time;
  }
  const version = params.version;
  if (version !== undefined && version !== null) {
    // PostgreSQL text cannot hold NUL: refused here rather than failing the insert.
    if (typeof version !== 'string' || version.length > MAX_VERSION_LENGTH || version.includes('\u0000'))
      problems.push({
        key: 'dead_mans_switch_server.errors.not_a_version',
        args: { field: 'version', max: MAX_VERSION_LENGTH },
      });
    else checkIn.version = version.trim() || null;
  }
  return problems.length ? { error: problems[0] } : { checkIn };
}
