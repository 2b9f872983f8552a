import type { Type } from '@nestjs/common';
import type { AppConfig, RunningEnv } from '../config/app-config.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

/** A text shown to ops: a translation key with its arguments (translated in the reader's language). */
export interface CheckText {
  key: string;
  args?: Record<string, string | number>;
}

export interface CheckResult {
  status: CheckStatus;
  message: CheckText;
  /** How to fix it; expected with `warn` and `fail`. */
  fix?: CheckText;
}

/**
 * An environment check contributed by core or an addon (manifest `checks`). Core runs every check at start-up
 * (after the database connection, before listening) and on demand; a `fail` refuses the start.
 */
export interface EnvironmentCheck {
  /** Unique id, `<addon>.<check>`. */
  id: string;
  /** Environments where the check runs; elsewhere it is skipped. */
  environments: readonly RunningEnv[];
  /** Environments (among `environments`) where a `fail` is reported as a `warn`, such as `dev`. */
  warnOnlyIn?: readonly RunningEnv[];
  /** Time allowed for the whole check, probes included (default 5000 ms); beyond it the check is a `fail`. */
  timeoutMs?: number;
  check(context: EnvironmentCheckContext): Promise<CheckResult> | CheckResult;
}

export interface EnvironmentCheckContext {
  /** The resolved environment (an unknown RUNNING_ENV counts as `dev`). */
  runningEnv: RunningEnv;
  /** RUNNING_ENV as it was given. */
  runningEnvRaw: string;
  env: Readonly<Record<string, string | undefined>>;
  config: AppConfig;
  /** True when Vigil runs its embedded PostgreSQL (no DATABASE_URL). */
  embeddedDatabase: boolean;
  /** A provider of the running application (checks read the database through the owning addon's repository). */
  get: <T>(token: Type<T>) => T;
  /** Aborted when the check's time is up: pass it to probes so that they stop too. */
  signal: AbortSignal;
}
