import type { CheckResult, EnvironmentCheck } from './environment-check.js';
import { RUNNING_ENVS } from '../config/app-config.js';
import { DatabaseServerRepository } from '../database/database-server.repository.js';

/** Oldest PostgreSQL major version Vigil supports. */
export const MIN_POSTGRES_MAJOR = 13;

/** `base.database`: the database answers, and its version is supported. */
export const databaseCheck: EnvironmentCheck = {
  id: 'base.database',
  environments: RUNNING_ENVS,
  async check({ get }): Promise<CheckResult> {
    let versionNum: number;
    try {
      versionNum = await get(DatabaseServerRepository).versionNum();
    } catch (error) {
      return {
        status: 'fail',
        message: { key: 'environment.database.unreachable', args: { reason: String(error) } },
        fix: { key: 'environment.database.unreachable_fix' },
      };
    }
    const major = Math.floor(versionNum / 10_000);
    const version = `${major}.${versionNum % 10_000}`;
    if (major < MIN_POSTGRES_MAJOR) {
      return {
        status: 'fail',
        message: { key: 'environment.database.too_old', args: { version, min: MIN_POSTGRES_MAJOR } },
        fix: { key: 'environment.database.too_old_fix', args: { min: MIN_POSTGRES_MAJOR } },
      };
    }
    return { status: 'ok', message: { key: 'environment.database.ok', args: { version } } };
  },
};
