import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CheckOutcome, CheckStatus } from '../../../src/index.js';
import { checkChanges, statusesOf } from '../check-changes.js';
import { changeMessage } from '../platform-environment.service.js';

const check = (id: string, status: CheckStatus): CheckOutcome => ({
  addon: 'cloud_platform',
  id,
  status,
  message: { key: `cloud_platform.checks.${id}`, args: { id } },
  fix: status === 'ok' ? null : { key: `cloud_platform.checks.${id}_fix` },
});

describe('check changes', () => {
  it('reports only the checks whose status moved, and which way', () => {
    const previous = { a: 'ok', b: 'fail', c: 'warn', d: 'fail', gone: 'fail' } as const;
    const changes = checkChanges(previous, [
      check('a', 'fail'),
      check('b', 'fail'),
      check('c', 'fail'),
      check('d', 'warn'),
      check('new_ok', 'ok'),
      check('new_warn', 'warn'),
    ]);
    assert.deepEqual(
      changes.map((c) => [c.check.id, c.from, c.to, c.worse]),
      [
        ['a', 'ok', 'fail', true],
        ['c', 'warn', 'fail', true],
        ['d', 'fail', 'warn', false],
        ['new_warn', 'ok', 'warn', true],
      ],
    );
    assert.deepEqual(statusesOf([check('a', 'ok'), check('b', 'warn')]), { a: 'ok', b: 'warn' });
  });

  it('posts one message: "failed" when any check got worse, else "recovered"; fixes only for what is not ok', () => {
    const mixed = changeMessage(
      'prod',
      checkChanges({ a: 'ok', b: 'fail' }, [check('a', 'fail'), check('b', 'ok')]),
    );
    assert.equal(mixed.subtype, 'cloud_platform.mt_check_failed');
    assert.deepEqual(mixed.tracking, [
      { field: 'a', oldValue: 'ok', newValue: 'fail' },
      { field: 'b', oldValue: 'fail', newValue: 'ok' },
    ]);
    assert.deepEqual(mixed.subject, {
      key: 'cloud_platform.changes.failed_subject',
      args: { environment: 'prod', checks: 'a, b' },
    });
    const keys = (mixed.body as { key: string }[]).map((line) => line.key);
    assert.deepEqual(keys, [
      'cloud_platform.changes.failed_intro',
      'cloud_platform.changes.line',
      'cloud_platform.changes.fix',
      'cloud_platform.changes.line',
    ]);
    const better = changeMessage('prod', checkChanges({ a: 'fail' }, [check('a', 'warn')]));
    assert.equal(better.subtype, 'cloud_platform.mt_check_recovered');
  });
});
