import type { CheckStatus, CheckText } from './environment-check.js';
import type { RunningEnv } from '../config/app-config.js';

/** What started a run of the checks. */
export type ReportTrigger = 'startup' | 'manual' | 'cli' | 'schedule';

/** One check's outcome, texts kept as translation keys so that each reader gets their language. */
export interface CheckOutcome {
  addon: string;
  id: string;
  status: CheckStatus;
  message: CheckText;
  fix: CheckText | null;
}

/** One run of every check that applies to the running environment. */
export interface EnvironmentReport {
  environment: RunningEnv;
  /** RUNNING_ENV as it was given. */
  environmentRaw: string;
  /** No check failed. */
  ok: boolean;
  /** CLOUD_PLATFORM_UNSAFE is set: a failure does not refuse the start. */
  unsafe: boolean;
  checkedAt: Date;
  /** The Vigil version that ran the checks. */
  version: string;
  trigger: ReportTrigger;
  checks: CheckOutcome[];
}

/** The report as the API, `env:check --json` and the log show it (DESIGN §6). */
export interface RenderedReport {
  environment: RunningEnv;
  ok: boolean;
  unsafe: boolean;
  checked_at: string;
  checks: { addon: string; id: string; status: CheckStatus; message: string; fix: string | null }[];
}

/** Thrown by the start-up when a check failed and CLOUD_PLATFORM_UNSAFE is not set: the process exits with 78. */
export class EnvironmentRefusal extends Error {
  constructor(
    readonly report: EnvironmentReport,
    /** The report as a readable table, with the headline. */
    readonly text: string,
  ) {
    super(text);
  }
}
