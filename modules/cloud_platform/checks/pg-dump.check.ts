import { RUNNING_ENVS, type CheckResult, type EnvironmentCheck } from '../../../src/index.js';
import { PgDumpRepository } from '../pg-dump.repository.js';
import { pgDumpMajor } from '../platform-rules.js';
import { result } from './results.js';

/** Backups need a `pg_dump` at least as new as the server: an older one refuses to dump. */
export const pgDumpCheck: EnvironmentCheck = {
  id: 'cloud_platform.pg_dump',
  environments: RUNNING_ENVS,
  warnOnlyIn: ['labs', 'test', 'dev'],
  async check({ get, signal }): Promise<CheckResult> {
    const repository = get(PgDumpRepository);
    const [outcome, server] = await Promise.all([repository.version(signal), repository.serverMajor()]);
    if (!outcome.found) {
      return outcome.timedOut
        ? result('fail', 'pg_dump.timeout', { server })
        : result('fail', 'pg_dump.missing', { reason: outcome.reason, server });
    }
    const major = pgDumpMajor(outcome.output);
    if (major === undefined) return result('fail', 'pg_dump.unreadable', { output: outcome.output, server });
    return major >= server
      ? result('ok', 'pg_dump.ok', { major, server })
      : result('fail', 'pg_dump.too_old', { major, server });
  },
};
