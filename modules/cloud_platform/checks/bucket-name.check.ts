import { RUNNING_ENVS, type EnvironmentCheck } from '../../../src/index.js';
import { bucketRule, s3Settings } from '../platform-rules.js';
import { result } from './results.js';

/** In prod the bucket is the prod bucket; anywhere else it is not (no integration writes into prod storage). */
export const bucketNameCheck: EnvironmentCheck = {
  id: 'cloud_platform.bucket_name',
  environments: RUNNING_ENVS,
  warnOnlyIn: ['dev'],
  check({ env, runningEnv }) {
    const { bucket, unstructured } = s3Settings(env);
    if (!bucket) return result('ok', 'bucket_name.no_bucket');
    switch (bucketRule(runningEnv, bucket, unstructured)) {
      case 'ok':
        return result('ok', 'bucket_name.ok', { bucket, environment: runningEnv });
      case 'skipped':
        return result('ok', 'bucket_name.unstructured', { bucket });
      case 'prod_needs_prod_bucket':
        return result('fail', 'bucket_name.not_prod', { bucket });
      case 'prod_bucket_outside_prod':
        return result('fail', 'bucket_name.prod_elsewhere', { bucket, environment: runningEnv });
    }
  },
};
