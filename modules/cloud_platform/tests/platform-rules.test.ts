import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bucketRule,
  missingS3Variables,
  pgDumpMajor,
  resolveEnvironment,
  s3Settings,
  s3Used,
} from '../platform-rules.js';

describe('the bucket naming rule', () => {
  it('in prod, needs a bucket that ends in -prod, anchored at both ends', () => {
    assert.equal(bucketRule('prod', 'acme-odoo-prod', false), 'ok');
    assert.equal(bucketRule('prod', 'acme-odoo-prod-copy', false), 'prod_needs_prod_bucket');
    assert.equal(bucketRule('prod', 'acme-odoo-integration', false), 'prod_needs_prod_bucket');
    assert.equal(bucketRule('prod', 'Acme-odoo-prod', false), 'prod_needs_prod_bucket');
    assert.equal(bucketRule('prod', 'acme_odoo-prod', false), 'prod_needs_prod_bucket');
    assert.equal(bucketRule('prod', 'x-prod\nother', false), 'prod_needs_prod_bucket');
    assert.equal(bucketRule('prod', '-prod', false), 'prod_needs_prod_bucket');
  });

  it('anywhere else, refuses a prod bucket and accepts the rest', () => {
    for (const environment of ['integration', 'labs', 'test', 'dev'] as const) {
      assert.equal(bucketRule(environment, 'acme-odoo-prod', false), 'prod_bucket_outside_prod');
      assert.equal(bucketRule(environment, `acme-odoo-${environment}`, false), 'ok');
      assert.equal(bucketRule(environment, 'acme-odoo-prod-copy', false), 'ok');
    }
  });

  it('is skipped with AWS_BUCKETNAME_UNSTRUCTURED', () => {
    assert.equal(bucketRule('prod', 'acme-odoo-prod-copy', true), 'skipped');
    assert.equal(bucketRule('integration', 'acme-odoo-prod', true), 'skipped');
  });
});

describe('RUNNING_ENV resolution', () => {
  it('knows the five environments and counts labs* as labs', () => {
    for (const known of ['prod', 'integration', 'labs', 'test', 'dev'] as const) {
      assert.deepEqual(resolveEnvironment(known), { environment: known, known: true });
    }
    assert.deepEqual(resolveEnvironment('labs-feature-42'), { environment: 'labs', known: true });
    assert.deepEqual(resolveEnvironment(undefined), { environment: 'dev', known: true });
    assert.deepEqual(resolveEnvironment(''), { environment: 'dev', known: true });
  });

  it('runs an unknown value as dev and says it is unknown', () => {
    assert.deepEqual(resolveEnvironment('production'), { environment: 'dev', known: false });
    assert.deepEqual(resolveEnvironment('PROD'), { environment: 'dev', known: false });
  });
});

describe('S3 settings', () => {
  it('takes AWS_HOST as an alias of AWS_ENDPOINT_URL, https when no scheme is given', () => {
    assert.equal(s3Settings({ AWS_HOST: 's3.example.com' }).endpoint, 'https://s3.example.com');
    assert.equal(s3Settings({ AWS_HOST: 'http://127.0.0.1:9000' }).endpoint, 'http://127.0.0.1:9000');
    assert.equal(
      s3Settings({ AWS_ENDPOINT_URL: 'http://a:1', AWS_HOST: 'http://b:2' }).endpoint,
      'http://a:1',
      'AWS_ENDPOINT_URL wins',
    );
  });

  it('knows when S3 is in use and what is missing', () => {
    assert.equal(s3Used(s3Settings({})), false);
    assert.equal(s3Used(s3Settings({ AWS_REGION: 'eu-west-1' })), false, 'a region alone uses nothing');
    assert.equal(s3Used(s3Settings({ AWS_BUCKETNAME: 'acme-odoo-labs' })), true);
    assert.deepEqual(missingS3Variables(s3Settings({ AWS_BUCKETNAME: 'b' })), [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    assert.equal(s3Settings({ AWS_BUCKETNAME_UNSTRUCTURED: '1' }).unstructured, true);
    assert.equal(s3Settings({ AWS_BUCKETNAME_UNSTRUCTURED: '0' }).unstructured, false);
  });
});

describe('pg_dump version', () => {
  it('reads the major version', () => {
    assert.equal(pgDumpMajor('pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'), 15);
    assert.equal(pgDumpMajor('pg_dump (PostgreSQL) 17beta1'), 17);
    assert.equal(pgDumpMajor('nothing here'), undefined);
  });
});
