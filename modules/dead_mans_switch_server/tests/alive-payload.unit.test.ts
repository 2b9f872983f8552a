import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCheckIn, readEnvelope, type CheckIn } from '../checkin/alive-payload.js';

/** A fixed seed keeps CI deterministic; FC_SEED=<n> explores other cases by hand. */
const RUNS = { numRuns: 2000, seed: Number(process.env.FC_SEED ?? 20261130) };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a PostgreSQL `timestamptz` accepts from 4713 BC; its upper end (294276 AD) is past JavaScript's. */
const PG_MIN = Date.UTC(-4712, 0, 1);

/** Whatever the parser accepts must be storable as it is: the column types of the instance and its log. */
function assertStorable(checkIn: CheckIn): void {
  assert.match(checkIn.databaseUuid, UUID);
  for (const field of ['cpu', 'ram'] as const) {
    const value = checkIn[field];
    if (value !== null) assert.ok(Number.isFinite(value) && value >= 0 && value <= 1e6, `${field} ${value}`);
  }
  for (const field of ['userCount', 'dbSize', 'diskFree', 'diskTotal', 'uptime'] as const) {
    const value = checkIn[field];
    // A bigint column holds up to 2^63 - 1; the integer need not be exact in a double beyond 2^53.
    if (value !== null)
      assert.ok(Number.isInteger(value) && value >= 0 && value < 2 ** 63, `${field} ${value}`);
  }
  if (checkIn.userCount !== null) assert.ok(checkIn.userCount <= 2_147_483_647);
  if (checkIn.lastBackupAt !== null) {
    const time = checkIn.lastBackupAt.getTime();
    assert.ok(
      Number.isFinite(time) && time >= PG_MIN,
      `last_backup_at ${checkIn.lastBackupAt.toISOString()}`,
    );
  }
  if (checkIn.version !== null) {
    assert.ok(checkIn.version.length <= 100);
    assert.ok(!checkIn.version.includes('\u0000'), 'a text column cannot hold NUL');
  }
}

const validUuid = fc.uuid().map((u) => u.toUpperCase());
const statistic = fc.oneof(
  fc.constant(null),
  fc.nat({ max: 1e6 }),
  fc.double({ min: 0, max: 1e6, noNaN: true }),
);
/** Any text, control characters and lone surrogates included. */
const anyText = fc.string({ unit: 'binary' });

describe('check-in payload (unit, property-based)', () => {
  it('never throws, whatever the body, and whatever it accepts is storable', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (body) => {
        const request = readEnvelope(body);
        const parsed = parseCheckIn(request.params);
        if ('checkIn' in parsed) assertStorable(parsed.checkIn);
        else assert.match(parsed.error.key, /^dead_mans_switch_server\.errors\./);
      }),
      RUNS,
    );
  });

  it('never throws on objects that look like check-ins, with any value under every known key', () => {
    const anyValue = fc.oneof(
      fc.jsonValue(),
      anyText,
      fc.constantFrom('\u0000', 'v\u00001', '0000-01-01', '9999-12-31T23:59:59+14:00', '2024-02-30', '1e400'),
      anyText.map((t) => `2024-01-01T00:00:00${t}`),
      fc.double(),
      fc.integer(),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    );
    const keys = [
      'cpu',
      'ram',
      'user_count',
      'db_size',
      'disk_free',
      'disk_total',
      'last_backup_at',
      'version',
      'uptime',
    ];
    // One known key at a time beside a valid uuid, so that an accepted value is never hidden by another's error.
    fc.assert(
      fc.property(
        validUuid,
        fc.constantFrom(...keys),
        anyValue,
        fc.boolean(),
        (uuid, key, value, wrapped) => {
          const params = { database_uuid: uuid, [key]: value };
          const parsed = parseCheckIn(
            readEnvelope(wrapped ? { jsonrpc: '2.0', method: 'call', params } : params).params,
          );
          if ('checkIn' in parsed) assertStorable(parsed.checkIn);
        },
      ),
      RUNS,
    );
  });

  it('accepts every well-formed check-in, keeps its values and ignores unknown keys', () => {
    const extra = fc.dictionary(
      fc
        .string()
        .filter((k) => !['database_uuid', 'cpu', 'ram', 'user_count', 'version', '__proto__'].includes(k)),
      fc.jsonValue(),
      { maxKeys: 5 },
    );
    fc.assert(
      fc.property(
        validUuid,
        statistic,
        statistic,
        fc.option(fc.nat({ max: 100_000 }), { nil: null }),
        fc.option(
          fc.string({ maxLength: 100, unit: 'binary' }).filter((v) => !v.includes('\u0000')),
          { nil: null },
        ),
        extra,
        (uuid, cpu, ram, userCount, version, unknown) => {
          const params = { ...unknown, database_uuid: uuid, cpu, ram, user_count: userCount, version };
          const parsed = parseCheckIn(readEnvelope({ jsonrpc: '2.0', method: 'call', params }).params);
          assert.ok('checkIn' in parsed, JSON.stringify(parsed));
          assert.equal(parsed.checkIn.databaseUuid, uuid.toLowerCase());
          assert.equal(parsed.checkIn.cpu, cpu);
          assert.equal(parsed.checkIn.ram, ram);
          assert.equal(parsed.checkIn.userCount, userCount);
          assert.equal(parsed.checkIn.version, version === null ? null : version.trim() || null);
          assertStorable(parsed.checkIn);
        },
      ),
      RUNS,
    );
  });
});
