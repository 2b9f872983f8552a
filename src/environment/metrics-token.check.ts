import type { CheckResult, EnvironmentCheck } from './environment-check.js';

/** `base.metrics_token`: outside dev, `/metrics` answers 403 until METRICS_TOKEN is set. */
export const metricsTokenCheck: EnvironmentCheck = {
  id: 'base.metrics_token',
  environments: ['prod', 'integration', 'labs', 'test'],
  check({ config, runningEnv }): CheckResult {
    if (config.metricsToken) return { status: 'ok', message: { key: 'environment.metrics_token.ok' } };
    // A warning, not a refusal: a deployment without Prometheus runs fine, and nothing is exposed meanwhile.
    return {
      status: 'warn',
      message: { key: 'environment.metrics_token.missing', args: { environment: runningEnv } },
      fix: { key: 'environment.metrics_token.missing_fix' },
    };
  },
};
