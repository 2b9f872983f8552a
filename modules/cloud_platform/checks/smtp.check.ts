import { RUNNING_ENVS, type CheckResult, type EnvironmentCheck } from '../../../src/index.js';
import { SMTP_PROBE_TIMEOUT_MS, SmtpRepository } from '../smtp.repository.js';
import { result } from './results.js';

/** `host:port` of an SMTP URL, without its credentials. */
export function smtpServer(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'smtps:' ? '465' : '587')}`;
}

/** prod and integration send e-mail (followers get it); wherever SMTP_URL is set, the server must answer EHLO. */
export const smtpCheck: EnvironmentCheck = {
  id: 'cloud_platform.smtp',
  environments: RUNNING_ENVS,
  warnOnlyIn: ['dev'],
  timeoutMs: SMTP_PROBE_TIMEOUT_MS + 1000,
  async check({ config, runningEnv, get, signal }): Promise<CheckResult> {
    if (!config.smtpUrl) {
      return runningEnv === 'prod' || runningEnv === 'integration'
        ? result('fail', 'smtp.missing', { environment: runningEnv })
        : result('ok', 'smtp.off');
    }
    const server = smtpServer(config.smtpUrl);
    const outcome = await get(SmtpRepository).probe(config.smtpUrl, signal);
    if (outcome.ok) return result('ok', 'smtp.ok', { server });
    return outcome.timedOut
      ? result('fail', 'smtp.timeout', { server, seconds: SMTP_PROBE_TIMEOUT_MS / 1000 })
      : result('fail', 'smtp.refused', { server, reason: outcome.reason });
  },
};
