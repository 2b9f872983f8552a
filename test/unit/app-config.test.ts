import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/app-config.js';

/** The problems loadConfig lists for `env` (none when it is valid). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('loadConfig: invalid variables', () => {
  it('lists every invalid value at once', () => {
    assert.deepEqual(
      problemsOf({ CLOUD_PLATFORM_UNSAFE: 'maybe', DATABASE_POOL_SIZE: 'lots', TRUST_PROXY: 'yes please' }),
      [
        'CLOUD_PLATFORM_UNSAFE must be 1, true, 0 or false, got "maybe"',
        'DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "lots"',
        'TRUST_PROXY must be 1, true, 0 or false, got "yes please"',
      ],
    );
    assert.throws(() => loadConfig({ DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE/);
    // Issue 22: an unknown RUNNING_ENV is refused, not run as dev (DESIGN.md said "dev with a warning").
    assert.deepEqual(problemsOf({ RUNNING_ENV: 'staging' }), [
      'RUNNING_ENV must be prod, integration, labs (or labs…), test or dev, got "staging"',
    ]);
    assert.deepEqual(problemsOf({ RUNNING_ENV: 'production' }).length, 1);
    const feature = loadConfig({ RUNNING_ENV: 'labs-feature-42' });
    assert.equal(feature.runningEnv, 'labs', 'labs… is labs');
    assert.equal(feature.runningEnvRaw, 'labs-feature-42', 'and is kept as the environment name');
    const config = loadConfig({ CLOUD_PLATFORM_UNSAFE: 'TRUE', DATABASE_POOL_SIZE: '25', TRUST_PROXY: '1' });
    assert.equal(config.cloudPlatformUnsafe, true);
    assert.equal(config.databasePoolSize, 25);
    assert.equal(config.trustProxy, true);
  });
});

describe('loadConfig: defaults and every rule', () => {
  it('reads blank as unset and applies the defaults', () => {
    const config = loadConfig({ PORT: ' ', LOG_LEVEL: '', DATA_DIR: '  ' });
    assert.equal(config.port, 3000);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.logFormat, 'pretty', 'pretty in dev');
    assert.equal(config.databasePoolSize, 10);
    assert.equal(config.webConcurrency, 1);
    assert.equal(config.cloudPlatformUnsafe, false);
    assert.equal(config.trustProxy, false);
    assert.equal(config.mailFrom, 'Vigil <vigil@localhost>');
    assert.equal(config.addons, undefined);
    assert.deepEqual(config.addonsPath, []);
    assert.equal(loadConfig({ RUNNING_ENV: 'prod' }).logFormat, 'json', 'json elsewhere');
    assert.equal(loadConfig({ RUNNING_ENV: 'labs-42' }).runningEnv, 'labs');
    assert.deepEqual(loadConfig({ ADDONS: ' backup , ,cloud_platform ' }).addons, [
      'backup',
      'cloud_platform',
    ]);
    assert.ok(loadConfig({ WEB_CONCURRENCY: 'AUTO' }).webConcurrency >= 1);
  });

  it('names each invalid variable once, in a fixed order', () => {
    assert.deepEqual(
      problemsOf({
        ADMIN_PASSWORD: 'short',
        SMTP_URL: 'mail.example.com',
        WEB_CONCURRENCY: '0',
        LOG_LEVEL: 'loud',
        LOG_FORMAT: 'xml',
        DATABASE_URL: 'mysql://x',
        PORT: '70000',
      }),
      [
        'PORT must be a port number, got "70000"',
        'DATABASE_URL must start with postgres:// or postgresql://',
        'LOG_FORMAT must be "json" or "pretty", got "xml"',
        'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
        'WEB_CONCURRENCY must be a whole number from 1 to 64 or "auto", got "0"',
        'SMTP_URL must start with smtp:// or smtps://',
        'ADMIN_PASSWORD must have at least 8 characters',
      ],
    );
  });
});
