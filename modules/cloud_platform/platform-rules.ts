import { normalizeRunningEnv, type RunningEnv } from '../../src/index.js';

/** The prod bucket rule, anchored at both ends: `acme-odoo-prod` is prod, `acme-odoo-prod-copy` is not. */
export const PROD_BUCKET = /^[a-z0-9-]+-prod$/;

/** RUNNING_ENV resolved: `labs*` is labs; an unknown value runs as dev and is reported (`known: false`). */
export function resolveEnvironment(raw: string | undefined): { environment: RunningEnv; known: boolean } {
  const value = raw?.trim() || 'dev';
  const environment = normalizeRunningEnv(value);
  return environment ? { environment, known: true } : { environment: 'dev', known: false };
}

export type BucketRuleOutcome = 'ok' | 'skipped' | 'prod_needs_prod_bucket' | 'prod_bucket_outside_prod';

/**
 * The bucket naming rule: in prod the bucket must be a prod bucket (`<client>-odoo-prod`); anywhere else it must
 * not be one, so that no other environment can write into production's storage. `unstructured` skips it.
 */
export function bucketRule(
  environment: RunningEnv,
  bucket: string,
  unstructured: boolean,
): BucketRuleOutcome {
  if (unstructured) return 'skipped';
  const prodBucket = PROD_BUCKET.test(bucket);
  if (environment === 'prod') return prodBucket ? 'ok' : 'prod_needs_prod_bucket';
  return prodBucket ? 'prod_bucket_outside_prod' : 'ok';
}

/** S3 settings from the environment (`AWS_HOST` is camptocamp's name for `AWS_ENDPOINT_URL`). */
export interface S3Settings {
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  bucket?: string;
  unstructured: boolean;
}

const value = (env: Readonly<Record<string, string | undefined>>, name: string) =>
  env[name]?.trim() || undefined;

export function s3Settings(env: Readonly<Record<string, string | undefined>>): S3Settings {
  const endpoint = value(env, 'AWS_ENDPOINT_URL') ?? value(env, 'AWS_HOST');
  const unstructured = value(env, 'AWS_BUCKETNAME_UNSTRUCTURED')?.toLowerCase();
  return {
    // A bare host name (as AWS_HOST is often given) means https.
    endpoint: endpoint && !/^https?:\/\//.test(endpoint) ? `https://${endpoint}` : endpoint,
    region: value(env, 'AWS_REGION') ?? 'us-east-1',
    accessKeyId: value(env, 'AWS_ACCESS_KEY_ID'),
    secretAccessKey: value(env, 'AWS_SECRET_ACCESS_KEY'),
    bucket: value(env, 'AWS_BUCKETNAME'),
    unstructured: unstructured === '1' || unstructured === 'true',
  };
}

/** S3 is in use as soon as any of its variables is set. */
export function s3Used(settings: S3Settings): boolean {
  return Boolean(settings.endpoint || settings.accessKeyId || settings.secretAccessKey || settings.bucket);
}

/** The S3 variables that are missing (by name). */
export function missingS3Variables(settings: S3Settings): string[] {
  return [
    ...(settings.accessKeyId ? [] : ['AWS_ACCESS_KEY_ID']),
    ...(settings.secretAccessKey ? [] : ['AWS_SECRET_ACCESS_KEY']),
    ...(settings.bucket ? [] : ['AWS_BUCKETNAME']),
  ];
}

/** The major version in `pg_dump --version` output (`pg_dump (PostgreSQL) 15.18 (Debian …)` → 15). */
export function pgDumpMajor(output: string): number | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(output) ?? /(\d+)(?:\.\d+)*/.exec(output);
  return match ? Number(match[1]) : undefined;
}
