import { RUNNING_ENVS, type CheckResult, type EnvironmentCheck } from '../../../src/index.js';
import { missingS3Variables, s3Settings, s3Used } from '../platform-rules.js';
import { S3_PROBE_TIMEOUT_MS, S3Repository } from '../s3.repository.js';
import { result } from './results.js';

/**
 * Backups go to S3 in prod and integration: credentials and a bucket are required, and the bucket must answer
 * HeadBucket with them. Elsewhere S3 is optional, but once any AWS_* variable is set it must be complete and work.
 */
export const s3StorageCheck: EnvironmentCheck = {
  id: 'cloud_platform.s3_storage',
  environments: RUNNING_ENVS,
  warnOnlyIn: ['dev'],
  timeoutMs: S3_PROBE_TIMEOUT_MS + 1000,
  async check({ env, runningEnv, get, signal }): Promise<CheckResult> {
    const settings = s3Settings(env);
    const required = runningEnv === 'prod' || runningEnv === 'integration';
    if (!required && !s3Used(settings)) return result('ok', 's3.off');
    const missing = missingS3Variables(settings);
    if (missing.length) {
      return result('fail', required ? 's3.required' : 's3.incomplete', {
        environment: runningEnv,
        missing: missing.join(', '),
      });
    }
    const target = {
      endpoint: settings.endpoint,
      region: settings.region,
      accessKeyId: settings.accessKeyId!,
      secretAccessKey: settings.secretAccessKey!,
      bucket: settings.bucket!,
    };
    const where = { bucket: target.bucket, endpoint: target.endpoint ?? 'AWS' };
    const outcome = await get(S3Repository).headBucket(target, signal);
    if (outcome.ok) return result('ok', 's3.ok', where);
    switch (outcome.problem) {
      case 'timeout':
        return result('fail', 's3.timeout', { ...where, seconds: S3_PROBE_TIMEOUT_MS / 1000 });
      case 'not_found':
        return result('fail', 's3.not_found', where);
      case 'denied':
        return result('fail', 's3.denied', where);
      case 'error':
        return result('fail', 's3.unreachable', { ...where, reason: outcome.reason });
    }
  },
};
