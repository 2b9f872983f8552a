import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { OptionalText } from '../../src/index.js';
import type { ProbeResultRow } from './probes.repository.js';
import {
  PROBE_KINDS,
  type HttpTarget,
  type ProbeKind,
  type ProbeRow,
  type ProbeState,
  type SshTarget,
  type TcpTarget,
} from './probe.types.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS'] as const;
/** An environment variable name (which ones a probe may read is the service's rule, PROBE_SECRET_ENV). */
export const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** `SHA256:` and the unpadded base64 of 32 bytes, as `ssh-keygen -lf` prints it. */
export const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** Every setting of a probe, all optional: which ones a kind needs is checked by the service. */
export class UpdateProbeDto {
  @ApiPropertyOptional({
    description: 'A name for people; blank or absent: the kind and target',
    maxLength: 100,
  })
  @OptionalText(100)
  name?: string | null;

  @ApiPropertyOptional({ description: 'An inactive probe does not run' })
  @IsOptional()
  @IsBoolean()
  active?: boolean;

  @ApiPropertyOptional({ default: 300, description: 'Seconds between runs' })
  @IsOptional()
  @IsInt()
  @Min(30)
  @Max(86_400)
  interval_seconds?: number;

  @ApiPropertyOptional({ default: 10, description: 'Seconds a run may take' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  timeout_seconds?: number;

  @ApiPropertyOptional({ description: 'http: the URL (http or https)' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  url?: string;

  @ApiPropertyOptional({ enum: HTTP_METHODS, default: 'GET' })
  @IsOptional()
  @IsIn(HTTP_METHODS)
  method?: string;

  @ApiPropertyOptional({ default: 200, description: 'http: lowest expected status' })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(599)
  expect_status_min?: number;

  @ApiPropertyOptional({ default: 399, description: 'http: highest expected status' })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(599)
  expect_status_max?: number;

  @ApiPropertyOptional({ nullable: true, description: 'http: text that must appear in the response body' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  expect_text?: string | null;

  @ApiPropertyOptional({ default: 14, description: 'https: fail when the certificate expires within N days' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(365)
  cert_warning_days?: number;

  @ApiPropertyOptional({
    nullable: true,
    description:
      'https: PEM certificate(s) trusted instead of the system CAs (a private CA or the self-signed certificate)',
  })
  @IsOptional()
  @IsString()
  // Parsed by the service (pemCertificatesProblem): a regex over the whole text backtracked exponentially.
  @MaxLength(16_000)
  tls_ca?: string | null;

  @ApiPropertyOptional({ description: 'tcp, ssh: host name or IP address' })
  @IsOptional()
  @IsString()
  @MaxLength(253)
  host?: string;

  @ApiPropertyOptional({ description: 'tcp, ssh: port (ssh default 22)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65_535)
  port?: number;

  @ApiPropertyOptional({ description: 'ssh: user name' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  user?: string;

  @ApiPropertyOptional({
    description: "ssh: the server's host key, `SHA256:…` as `ssh-keygen -lf` prints it",
  })
  @IsOptional()
  @Matches(FINGERPRINT, { message: 'host_key_sha256 must look like SHA256:<43 base64 characters>' })
  host_key_sha256?: string;

  @ApiPropertyOptional({ type: [String], description: 'ssh: processes that must run (`pgrep -f`)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(200, { each: true })
  processes?: string[];

  @ApiPropertyOptional({ nullable: true, description: 'ssh: a command whose exit code counts (0 = ok)' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  command?: string | null;

  @ApiPropertyOptional({ description: 'ssh: the password, stored encrypted and never returned' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  password?: string;

  @ApiPropertyOptional({
    description: 'ssh: name of the environment variable holding the password, PROBE_SECRET_[A-Z0-9_]+',
  })
  @IsOptional()
  @Matches(ENV_NAME, { message: 'password_env must be an environment variable name' })
  password_env?: string;

  @ApiPropertyOptional({
    description: 'ssh: the private key (OpenSSH or PEM), stored encrypted, never returned',
  })
  @IsOptional()
  @IsString()
  @MaxLength(16_000)
  private_key?: string;

  @ApiPropertyOptional({
    description: 'ssh: name of the environment variable holding the private key, PROBE_SECRET_[A-Z0-9_]+',
  })
  @IsOptional()
  @Matches(ENV_NAME, { message: 'private_key_env must be an environment variable name' })
  private_key_env?: string;
}

export class CreateProbeDto extends UpdateProbeDto {
  @ApiProperty({ enum: PROBE_KINDS })
  @IsIn(PROBE_KINDS)
  kind!: ProbeKind;
}

export interface ProbeResponse {
  id: number;
  instance_id: number;
  name: string;
  kind: ProbeKind;
  active: boolean;
  interval_seconds: number;
  timeout_seconds: number;
  url?: string;
  method?: string;
  expect_status_min?: number;
  expect_status_max?: number;
  expect_text?: string | null;
  cert_warning_days?: number;
  tls_ca?: string | null;
  host?: string;
  port?: number;
  user?: string;
  host_key_sha256?: string;
  processes?: string[];
  command?: string | null;
  /** Where the SSH secret comes from; the secret itself is never returned. */
  password_env?: string | null;
  private_key_env?: string | null;
  has_password?: boolean;
  has_private_key?: boolean;
  state: ProbeState;
  consecutive_failures: number;
  last_run_at: string | null;
  last_ok: boolean | null;
  last_detail: string | null;
  next_run_at: string;
  created_at: string;
  updated_at: string;
}

export interface ProbeResultResponse {
  id: number;
  probe_id: number;
  checked_at: string;
  ok: boolean;
  latency_ms: number;
  detail: string;
  missing_processes: string[];
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function toProbeResponse(row: ProbeRow): ProbeResponse {
  const base = {
    id: row.id,
    instance_id: row.instance_id,
    name: row.name,
    kind: row.kind,
    active: row.active,
    interval_seconds: row.interval_seconds,
    timeout_seconds: row.timeout_seconds,
  };
  const status = {
    state: row.state,
    consecutive_failures: row.consecutive_failures,
    last_run_at: iso(row.last_run_at),
    last_ok: row.last_ok,
    last_detail: row.last_detail,
    next_run_at: row.next_run_at.toISOString(),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
  switch (row.kind) {
    case 'http':
      return { ...base, ...(row.target as HttpTarget), ...status };
    case 'tcp':
      return { ...base, ...(row.target as TcpTarget), ...status };
    case 'ssh': {
      const { auth, ...target } = row.target as SshTarget;
      const stored = row.secret_encrypted !== null;
      return {
        ...base,
        ...target,
        password_env: auth === 'password' ? row.secret_env : null,
        private_key_env: auth === 'key' ? row.secret_env : null,
        has_password: auth === 'password' && stored,
        has_private_key: auth === 'key' && stored,
        ...status,
      };
    }
  }
}

export const toProbeResultResponse = (row: ProbeResultRow): ProbeResultResponse => ({
  id: Number(row.id),
  probe_id: row.probe_id,
  checked_at: row.checked_at.toISOString(),
  ok: row.ok,
  latency_ms: row.latency_ms,
  detail: row.detail,
  missing_processes: row.missing_processes,
});
