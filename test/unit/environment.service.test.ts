import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModuleRef } from '@nestjs/core';
import type { EnvironmentCheck } from '../../src/addons/manifest.js';
import { loadConfig } from '../../src/config/app-config.js';
import { EnvironmentService } from '../../src/environment/environment.service.js';
import { I18nService } from '../../src/i18n/i18n.service.js';
import { StartupState } from '../../src/monitoring/startup-state.js';
import { ManualClock } from '../../src/scheduler/clock.js';

const AT = new Date('2026-11-30T07:00:00Z');

function service(checks: EnvironmentCheck[], env: Record<string, string> = {}) {
  const startup = new StartupState();
  const environment = new EnvironmentService(
    checks.map((check) => ({ addon: 'test_addon', check })),
    false,
    loadConfig({ RUNNING_ENV: 'integration', ...env }),
    new ManualClock(AT),
    new I18nService(),
    startup,
    { get: () => undefined } as unknown as ModuleRef,
  );
  return { environment, startup };
}

const message = { key: 'environment.database.ok', args: { version: '15.1' } };

describe('EnvironmentService', () => {
  it('runs only the checks of the running environment, and a fail makes the report fail and readiness drop', async () => {
    const { environment, startup } = service([
      { id: 't.ok', environments: ['integration'], check: () => ({ status: 'ok', message }) },
      { id: 't.prod_only', environments: ['prod'], check: () => ({ status: 'fail', message }) },
      {
        id: 't.fail',
        environments: ['integration'],
        check: () => ({ status: 'fail', message, fix: message }),
      },
    ]);
    const report = await environment.run('manual');
    assert.deepEqual(
      report.checks.map((c) => [c.addon, c.id, c.status]),
      [
        ['test_addon', 't.ok', 'ok'],
        ['test_addon', 't.fail', 'fail'],
      ],
    );
    assert.equal(report.ok, false);
    assert.equal(report.unsafe, false);
    assert.equal(report.environment, 'integration');
    assert.deepEqual(report.checkedAt, AT);
    assert.equal(startup.environmentFailing, true);
    assert.equal(environment.render(report, 'en').checks[1].message, 'PostgreSQL 15.1 answers');
  });

  it('turns a check that overruns its time into a fail that says so, and a crash into a fail', async () => {
    let aborted = false;
    const { environment } = service([
      {
        id: 't.hangs',
        environments: ['integration'],
        timeoutMs: 50,
        check: ({ signal }) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))),
      },
      {
        id: 't.throws',
        environments: ['integration'],
        check: () => {
          throw new Error('boom');
        },
      },
    ]);
    const rendered = environment.render(await environment.run('manual'), 'en');
    assert.deepEqual(
      rendered.checks.map((c) => [c.id, c.status, c.message]),
      [
        ['t.hangs', 'fail', 'No answer within 0.05 s: the check timed out'],
        ['t.throws', 'fail', 'The check could not run: Error: boom'],
      ],
    );
    assert.equal(aborted, true, 'the probe was told to stop');
  });

  it('reports a fail as a warn where the check only warns, and CLOUD_PLATFORM_UNSAFE keeps readiness', async () => {
    const fails: EnvironmentCheck = {
      id: 't.fail',
      environments: ['integration', 'dev'],
      warnOnlyIn: ['dev'],
      check: () => ({ status: 'fail', message, fix: message }),
    };
    const dev = service([fails], { RUNNING_ENV: 'dev' });
    const devReport = await dev.environment.run('manual');
    assert.equal(devReport.checks[0].status, 'warn');
    assert.equal(devReport.ok, true);
    const unsafe = service([fails], { CLOUD_PLATFORM_UNSAFE: 'true' });
    const unsafeReport = await unsafe.environment.run('startup');
    assert.equal(unsafeReport.ok, false);
    assert.equal(unsafeReport.unsafe, true);
    assert.equal(unsafe.startup.environmentFailing, false);
  });

  it('prints a table with each failure and its fix, in colour only when asked', async () => {
    const { environment } = service([
      { id: 't.ok', environments: ['integration'], check: () => ({ status: 'ok', message }) },
      {
        id: 't.fail',
        environments: ['integration'],
        check: () => ({
          status: 'fail',
          message,
          fix: { key: 'environment.database.too_old_fix', args: { min: 13 } },
        }),
      },
    ]);
    const report = await environment.run('cli');
    const plain = environment.formatTable(report, 'en', false);
    assert.ok(!plain.includes('\u001b['));
    assert.match(plain, /^ok +t\.ok +PostgreSQL 15\.1 answers$/m);
    assert.match(
      plain,
      /^FAIL +t\.fail +PostgreSQL 15\.1 answers\n +fix: Upgrade the database server to PostgreSQL 13/m,
    );
    assert.match(plain, /1 of 2 checks fail/);
    const coloured = environment.formatTable(report, 'en', true);
    assert.ok(coloured.includes('\u001b[31mFAIL'), 'fail in red');
    assert.ok(coloured.includes('\u001b[32mok'), 'ok in green');
    assert.match(environment.formatTable(report, 'fr', false), /ÉCHEC +t\.fail/);
  });

  it('refuses two checks with one id', () => {
    const check: EnvironmentCheck = {
      id: 't.twice',
      environments: ['dev'],
      check: () => ({ status: 'ok', message }),
    };
    assert.throws(() => service([check, check]), /"t\.twice" \(test_addon\) is declared twice/);
  });
});
