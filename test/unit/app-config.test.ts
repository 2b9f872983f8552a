import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/app-config.js';

describe('loadConfig: invalid variables', () => {
  it('lists every invalid value at once', () => {
    assert.throws(
      () =>
        loadConfig({
          CLOUD_PLATFORM_UNSAFE: 'maybe',
          DATABASE_POOL_SIZE: 'lots',
          TRUST_PROXY: 'yes please',
        }),
      (error: Error & { problems?: string[] }) => {
        assert.deepEqual(error.problems, [
          'CLOUD_PLATFORM_UNSAFE must be 1, true, 0 or false, got "maybe"',
          'DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "lots"',
          'TRUST_PROXY must be 1, true, 0 or false, got "yes please"',
        ]);
        return true;
      },
    );
    assert.throws(() => loadConfig({ DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE/);
    const staging = loadConfig({ RUNNING_ENV: 'staging' });
    assert.equal(staging.runningEnv, 'dev', 'an unknown RUNNING_ENV runs as dev');
    assert.equal(staging.runningEnvRaw, 'staging', 'and is kept to be reported');
    const config = loadConfig({ CLOUD_PLATFORM_UNSAFE: 'TRUE', DATABASE_POOL_SIZE: '25', TRUST_PROXY: '1' });
    assert.equal(config.cloudPlatformUnsafe, true);
    assert.equal(config.databasePoolSize, 25);
    assert.equal(config.trustProxy, true);
  });
});
