export const PROBE_KINDS = ['http', 'tcp', 'ssh'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];
export type ProbeState = 'unknown' | 'up' | 'down';

export interface HttpTarget {
  url: string;
  method: string;
  expect_status_min: number;
  expect_status_max: number;
  expect_text: string | null;
  /** Warn (fail the probe) when the TLS certificate expires within this many days; 0: do not check. */
  cert_warning_days: number;
  /** https: PEM certificate(s) to trust instead of the system's CAs (a private CA, or a self-signed certificate). */
  tls_ca?: string | null;
}

export interface TcpTarget {
  host: string;
  port: number;
}

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** `password` or `key` (private key); the secret itself is never part of the target. */
  auth: 'password' | 'key';
  /** The server's host key, `SHA256:<base64>` as `ssh-keygen -lf` prints it. */
  host_key_sha256: string;
  /** Each must match a running process (`pgrep -f <name>`). */
  processes: string[];
  /** Optional command whose exit code counts (0 = ok). */
  command: string | null;
}

export type ProbeTarget = HttpTarget | TcpTarget | SshTarget;

/** A probe as the runner reads it (one row of dead_mans_switch_probe). */
export interface ProbeRow {
  id: number;
  instance_id: number;
  name: string;
  kind: ProbeKind;
  active: boolean;
  interval_seconds: number;
  timeout_seconds: number;
  target: ProbeTarget;
  secret_env: string | null;
  secret_encrypted: string | null;
  next_run_at: Date;
  state: ProbeState;
  consecutive_failures: number;
  last_run_at: Date | null;
  last_ok: boolean | null;
  last_detail: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What one run of a probe found. */
export interface ProbeOutcome {
  ok: boolean;
  latencyMs: number;
  detail: string;
  missingProcesses: string[];
}
