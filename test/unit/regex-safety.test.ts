import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DATABASE_NAME } from '../../modules/backup/backup.dto.js';
import { PROD_BUCKET } from '../../modules/cloud_platform/platform-rules.js';
import { ISO_TIME, UUID } from '../../modules/dead_mans_switch_server/checkin/alive-payload.js';
import { JSON_TYPE } from '../../modules/dead_mans_switch_server/checkin/alive.middleware.js';
import { pemCertificatesProblem } from '../../modules/dead_mans_switch_probes/probe-pem.js';
import { PROBE_SECRET_ENV } from '../../modules/dead_mans_switch_probes/probe-secrets.js';
import { ENV_NAME, FINGERPRINT } from '../../modules/dead_mans_switch_probes/probe.dto.js';
import { routeKey } from '../../src/common/endpoints.js';
import { htmlToText } from '../../src/mail/email/template-renderer.js';
import { REQUEST_ID } from '../../src/monitoring/request-observer.js';
import { SETTING_KEY } from '../../src/settings/setting-definition.js';

/**
 * Every pattern or parser that sees what a user or a remote sends, fed strings built from its own pieces (the
 * repetitions backtracking feeds on) and a character that breaks the match at the end. Exponential backtracking
 * takes seconds at a few hundred characters, quadratic rescans hundreds of ms at tens of KB; linear code takes
 * microseconds. The bound is CPU time of this process (not wall time), generous for a loaded machine.
 */
const BOUND_MS = 100;

function cpuMs(call: () => unknown): number {
  const start = process.cpuUsage();
  call();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

interface Case {
  name: string;
  run: (input: string) => unknown;
  pieces: string[];
  /** Deterministic worst cases, beyond what the property draws (long runs for quadratic rescans). */
  worst?: string[];
}

const test = (pattern: RegExp) => (input: string) => pattern.test(input);
const PEM_BLOCK = '-----BEGIN CERTIFICATE-----A-----END CERTIFICATE-----';

const CASES: Case[] = [
  {
    name: 'probe tls_ca (PEM certificates)',
    run: pemCertificatesProblem,
    pieces: [
      PEM_BLOCK,
      '-----BEGIN CERTIFICATE-----',
      '-----END CERTIFICATE-----',
      'A',
      '=',
      ' ',
      '    ',
      '\n',
    ],
    // Issue 22: 14 blocks four spaces apart and a trailing character took minutes with the old regex.
    worst: [`${PEM_BLOCK}    `.repeat(14) + 'x', `${PEM_BLOCK}    `.repeat(300) + 'x'],
  },
  { name: 'probe secret variable', run: test(PROBE_SECRET_ENV), pieces: ['PROBE_SECRET_', 'A', '_', '0'] },
  { name: 'environment variable name', run: test(ENV_NAME), pieces: ['A', '_', '0'] },
  { name: 'ssh host key fingerprint', run: test(FINGERPRINT), pieces: ['SHA256:', 'A', '+', '/', '='] },
  { name: 'X-Request-Id header', run: test(REQUEST_ID), pieces: ['a', '.', ':', '-', '_'] },
  { name: 'setting key', run: test(SETTING_KEY), pieces: ['a', '.', '_', '0', 'a.b'] },
  {
    name: 'check-in content type',
    run: test(JSON_TYPE),
    pieces: [' ', '\t', 'application/json', ';', 'application/'],
  },
  { name: 'check-in uuid', run: test(UUID), pieces: ['0', 'a', '-', '01234567-'] },
  {
    name: 'check-in backup time',
    run: test(ISO_TIME),
    pieces: ['2025-01-01', 'T', ' ', '12:00', ':00', '.', '1', 'Z', '+01:00', '+0100', '-'],
  },
  { name: 'backup database name', run: test(DATABASE_NAME), pieces: ['a', '_', '0'] },
  { name: 'production bucket name', run: test(PROD_BUCKET), pieces: ['a', '-', 'prod', '-prod', '0'] },
  {
    name: 'route key of a request path (body limits)',
    run: routeKey,
    pieces: ['/', '//', 'a', '%2F', 'Alive'],
    worst: ['/'.repeat(64_000) + 'x'],
  },
  {
    name: 'mail text part from HTML',
    run: htmlToText,
    pieces: [' ', '\t', '\n', '<br>', '<br/>', '</p>', '<li>', '&#x41;', '&#65;', '&amp;', 'a', '<', '>'],
    worst: [' \t'.repeat(32_000) + 'x', '<'.repeat(64_000) + 'x', '<li'.repeat(20_000) + 'x'],
  },
];

describe('user-facing regular expressions run in linear time', () => {
  for (const { name, run, pieces, worst } of CASES) {
    it(`${name}: every adversarial input within ${BOUND_MS} ms of CPU`, () => {
      run(pieces.join('')); // compiled before timing
      for (const input of worst ?? []) {
        const ms = cpuMs(() => run(input));
        assert.ok(ms < BOUND_MS, `${input.length} characters took ${ms} ms of CPU`);
      }
      const adversarial = fc
        .tuple(
          fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 600 }),
          fc.constantFrom('!', 'x', '\u0000', '-', ' ', '\n', '/', 'é', ''),
        )
        .map(([parts, breaker]) => parts.join('') + breaker);
      fc.assert(
        fc.property(adversarial, (input) => {
          const ms = cpuMs(() => run(input));
          assert.ok(
            ms < BOUND_MS,
            `${input.length} characters took ${ms} ms of CPU: ${JSON.stringify(input.slice(0, 80))}`,
          );
        }),
        { numRuns: 200 },
      );
    });
  }
});
