import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { ENV_NAME, FINGERPRINT, type CreateProbeDto } from './probe.dto.js';

const WEB_KINDS = ['http', 'tcp', 'ssh'] as const;
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const toNumber = ({ value }: { value: unknown }) =>
  value === '' || value === undefined ? undefined : typeof value === 'string' ? Number(value) : value;

/**
 * The instance page's "add a probe" form: one form for every kind (the fields of other kinds stay empty). An ssh
 * probe takes its secret from an environment variable only: a password or key is not typed into a web page.
 */
export class ProbeFormDto {
  @IsIn(WEB_KINDS)
  kind!: (typeof WEB_KINDS)[number];

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(100)
  name?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(2000)
  url?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(500)
  expect_text?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(253)
  host?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(65_535)
  port?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(100)
  user?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(FINGERPRINT, {
    message: 'host_key_sha256 must look like SHA256:<43 base64 characters>',
  })
  host_key_sha256?: string;

  /** One process per line in the form; the same limits as the API's. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string'
      ? value
          .split('\n')
          .map((p) => p.trim())
          .filter(Boolean)
      : value,
  )
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  processes?: string[];

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(1000)
  command?: string;

  @IsOptional()
  @IsIn(['password', 'key'])
  secret_kind?: 'password' | 'key';

  @IsOptional()
  @Transform(emptyToUndefined)
  // Which names a probe may read (PROBE_SECRET_*) is the service's rule, reported translated.
  @Matches(ENV_NAME, { message: 'secret_env must be an environment variable name' })
  secret_env?: string;
}

/** The form as the API's creation request: the service checks what each kind needs. */
export function probeFromForm(form: ProbeFormDto): CreateProbeDto {
  const common = { kind: form.kind, name: form.name };
  switch (form.kind) {
    case 'http':
      return { ...common, url: form.url, expect_text: form.expect_text };
    case 'tcp':
      return { ...common, host: form.host, port: form.port };
    case 'ssh':
      return {
        ...common,
        host: form.host,
        port: form.port,
        user: form.user,
        host_key_sha256: form.host_key_sha256,
        processes: form.processes ?? [],
        command: form.command,
        ...(form.secret_env
          ? form.secret_kind === 'key'
            ? { private_key_env: form.secret_env }
            : { password_env: form.secret_env }
          : {}),
      };
  }
}
