import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_CPU_PERCENT, parseCheckIn, readEnvelope, type CheckIn } from '../checkin/alive-payload.js';

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
  fc.nat({ max: 100 }),
  fc.double({ min: 0, max: 100, noNaN: true }),
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
          // A bad statistic never loses the heartbeat: the check-in is accepted, the value dropped and listed.
          assert.ok('checkIn' in parsed, JSON.stringify(parsed));
          assertStorable(parsed.checkIn);
          for (const ignored of parsed.checkIn.ignored) {
            assert.equal(ignored.field, key);
            assert.match(ignored.key, /^dead_mans_switch_server\.ignored\./);
            assert.ok(ignored.value.length <= 100);
          }
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

  it('drops an out-of-range or ill-typed statistic, keeps the others and says which and why', () => {
    const uuid = '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed';
    const cases: [Record<string, unknown>, keyof CheckIn, string, Record<string, unknown>][] = [
      [{ ram: 150 }, 'ram', 'percent_out_of_range', { max: 100 }],
      [{ ram: -0.5 }, 'ram', 'percent_out_of_range', { max: 100 }],
      [{ cpu: MAX_CPU_PERCENT + 1 }, 'cpu', 'out_of_range', { max: MAX_CPU_PERCENT }],
      [{ cpu: '12' }, 'cpu', 'not_a_number', {}],
      [{ user_count: 2.5 }, 'userCount', 'not_a_whole_number', {}],
      [{ user_count: -1 }, 'userCount', 'out_of_range', { max: 2_147_483_647 }],
      [{ user_count: 3e9 }, 'userCount', 'out_of_range', { max: 2_147_483_647 }],
      [{ db_size: 1e300 }, 'dbSize', 'out_of_range', { max: Number.MAX_SAFE_INTEGER }],
      [{ uptime: true }, 'uptime', 'not_a_number', {}],
      [{ disk_free: 10, disk_total: 5 }, 'diskFree', 'above_total', { total: 5 }],
      [{ last_backup_at: 'yesterday' }, 'lastBackupAt', 'not_a_time', {}],
      [{ version: 42 }, 'version', 'not_text', {}],
    ];
    for (const [statistics, property, reason, args] of cases) {
      const parsed = parseCheckIn({ database_uuid: uuid, cpu: 3.5, user_count: 4, ...statistics });
      assert.ok('checkIn' in parsed, JSON.stringify(statistics));
      const { checkIn } = parsed;
      assert.equal(checkIn[property], null, JSON.stringify(statistics));
      assert.equal(checkIn.ignored.length, 1, JSON.stringify(checkIn.ignored));
      const [ignored] = checkIn.ignored;
      assert.equal(ignored.key, `dead_mans_switch_server.ignored.${reason}`);
      assert.deepEqual(ignored.args, { field: ignored.field, ...args });
      assert.equal(ignored.value, JSON.stringify(statistics[ignored.field]));
      // The good statistics beside it are kept.
      if (property !== 'cpu') assert.equal(checkIn.cpu, 3.5);
      if (property !== 'userCount') assert.equal(checkIn.userCount, 4);
    }
  });

  it('keeps values at the ends of their ranges and more than 100 % CPU (several cores), unflagged', () => {
    const parsed = parseCheckIn({
      database_uuid: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
      cpu: 350.5,
      ram: 100,
      user_count: 0,
      disk_free: 5,
      disk_total: 5,
      db_size: 1024.4,
    });
    assert.ok('checkIn' in parsed);
    assert.deepEqual(parsed.checkIn.ignored, []);
    assert.deepEqual(
      [parsed.checkIn.cpu, parsed.checkIn.ram, parsed.checkIn.userCount, parsed.checkIn.diskFree],
      [350.5, 100, 0, 5],
    );
    assert.equal(parsed.checkIn.dbSize, 1024, 'sizes sent as floats are rounded to whole bytes');
  });

  it('cuts a version longer than 100 characters, visibly, and shows long values short', () => {
    const version = `17.0+e-${'x'.repeat(200)}`;
    const parsed = parseCheckIn({ database_uuid: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed', version });
    assert.ok('checkIn' in parsed);
    assert.equal(parsed.checkIn.version, version.slice(0, 100));
    assert.equal(parsed.checkIn.ignored[0].key, 'dead_mans_switch_server.ignored.cut');
    assert.equal(parsed.checkIn.ignored[0].value.length, 100);
    assert.ok(parsed.checkIn.ignored[0].value.endsWith('…'));
  });

  it('still refuses a check-in without a valid database_uuid', () => {
    const parsed = parseCheckIn({ database_uuid: 'nope', ram: 150 });
    assert.ok('error' in parsed);
    assert.equal(parsed.error.key, 'dead_mans_switch_server.errors.uuid_invalid');
  });
});
