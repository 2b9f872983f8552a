import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppConfig } from '../../../src/index.js';
import { probeRefusal } from '../probe-address.js';
import { ProbeSecrets } from '../probe-secrets.js';
import { ProbeSecretsRepository } from '../probe-secrets.repository.js';
import { decide } from '../probes.service.js';

describe('probes: state transitions, address policy, secrets', () => {
  it('alerts down once at the Nth failure in a row, up once on the first success after', () => {
    let probe = { state: 'unknown' as const as 'unknown' | 'up' | 'down', consecutive_failures: 0 };
    const alerts: string[] = [];
    for (const ok of [true, false, true, false, false, false, true, true]) {
      const next = decide(probe, ok, 2);
      if (next.alert) alerts.push(next.alert);
      probe = { state: next.state, consecutive_failures: next.consecutiveFailures };
    }
    assert.deepEqual(alerts, ['down', 'up']);
    // A threshold of 0 acts as 1; a probe never up alerts too.
    assert.equal(decide({ state: 'unknown', consecutive_failures: 0 }, false, 0).alert, 'down');
  });

  it('refuses metadata, link-local, unspecified and multicast always, private ranges unless allowed', () => {
    for (const address of [
      '169.254.169.254',
      'fd00:ec2::254',
      '0.0.0.0',
      '::',
      '224.0.0.1',
      'ff02::1',
      'fe80::1',
    ])
      assert.match(probeRefusal(address, true) ?? '', /link-local, metadata/, address);
    for (const address of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '::1', '::ffff:127.0.0.1']) {
      assert.match(probeRefusal(address, false) ?? '', /dead_mans_switch\.probe_private_networks/, address);
      assert.equal(probeRefusal(address, true), undefined, address);
    }
    assert.equal(probeRefusal('93.184.215.14', false), undefined);
  });

  it('encrypts secrets with AES-GCM under a key derived from SESSION_SECRET', () => {
    const config = (secret: string) => ({ sessionSecret: secret, dataDir: '/nonexistent' }) as AppConfig;
    const secrets = new ProbeSecrets(
      config('a-session-secret-of-enough-length-0123456789'),
      new ProbeSecretsRepository(),
    );
    const stored = secrets.encrypt('hunter2');
    assert.ok(!stored.includes('hunter2'));
    assert.notEqual(stored, secrets.encrypt('hunter2'), 'a fresh IV each time');
    assert.equal(secrets.decrypt(stored), 'hunter2');
    const other = new ProbeSecrets(
      config('another-session-secret-of-enough-length-987'),
      new ProbeSecretsRepository(),
    );
    assert.throws(() => other.decrypt(stored), /SESSION_SECRET/);
  });
});
