import { Transform } from 'class-transformer';
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
import {
  ENV_NAME,
  FINGERPRINT,
  HTTP_METHODS,
  type CreateProbeDto,
  type UpdateProbeDto,
} from './probe.dto.js';

const WEB_KINDS = ['http', 'tcp', 'ssh'] as const;
/** A field of several values (a hidden default and a checkbox) arrives as an array: the last one counts. */
const last = (value: unknown) => (Array.isArray(value) ? (value as unknown[])[value.length - 1] : value);
const emptyToUndefined = ({ value }: { value: unknown }) => {
  const one = last(value);
  return typeof one === 'string' && one.trim() === '' ? undefined : one;
};
/** A text the form always sends: empty clears it (null) on an edit. */
const emptyToNull = ({ value }: { value: unknown }) => {
  const one = last(value);
  return typeof one === 'string' && one.trim() === '' ? null : one;
};
const toNumber = ({ value }: { value: unknown }) => {
  const one = last(value);
  return one === '' || one === undefined ? undefined : typeof one === 'string' ? Number(one) : one;
};
const toBoolean = ({ value }: { value: unknown }) => {
  const one = last(value);
  return one === '1' || one === 'on' || one === true ? true : one === '0' || one === false ? false : one;
};

/**
 * The instance page's probe form, to add a probe or edit one: every field of the API's. One form serves every
 * kind (the fields of other kinds are ignored). The SSH secret is a typed password or private key (sealed, never
 * shown again; blank on an edit keeps the stored one) or the name of a PROBE_SECRET_* variable of the server.
 */
export class ProbeFormDto {
  /** Only on creation: a probe keeps its kind. */
  @IsOptional()
  @IsIn(WEB_KINDS)
  kind?: (typeof WEB_KINDS)[number];

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(100)
  name?: string;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  active?: boolean;

  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(30)
  @Max(86_400)
  interval_seconds?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(60)
  timeout_seconds?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(2000)
  url?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(HTTP_METHODS)
  method?: string;

  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  @Max(599)
  expect_status_min?: number;

  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(100)
  @Max(599)
  expect_status_max?: number;

  @IsOptional()
  @Transform(emptyToNull)
  @IsString()
  @MaxLength(500)
  expect_text?: string | null;

  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(365)
  cert_warning_days?: number;

  @IsOptional()
  // Browsers send a textarea's lines with CRLF: PEM is kept with the LF it is written with.
  @Transform((params) => {
    const value = emptyToNull(params);
    return typeof value === 'string' ? value.replace(/\r\n/g, '\n') : value;
  })
  @IsString()
  @MaxLength(16_000)
  tls_ca?: string | null;

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
  @MinLength(1, { each: true })
  @MaxLength(200, { each: true })
  processes?: string[];

  @IsOptional()
  @Transform(emptyToNull)
  @IsString()
  @MaxLength(1000)
  command?: string | null;

  /** What the SSH secret is: a password or a private key. */
  @IsOptional()
  @IsIn(['password', 'key'])
  auth?: 'password' | 'key';

  /** The variable of the server holding the secret (named so that a refused form shows it again). */
  @IsOptional()
  @Transform(emptyToUndefined)
  // Which names a probe may read (PROBE_SECRET_*) is the service's rule, reported translated.
  @Matches(ENV_NAME, { message: 'credential_env must be an environment variable name' })
  credential_env?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(1000)
  password?: string;

  @IsOptional()
  @Transform((params) => {
    const value = emptyToUndefined(params);
    return typeof value === 'string' ? value.replace(/\r\n/g, '\n') : value;
  })
  @IsString()
  @MaxLength(16_000)
  private_key?: string;
}

/** The fields of the probe's kind, as the API's update request (every one the form sent). */
export function probeUpdateFromForm(kind: (typeof WEB_KINDS)[number], form: ProbeFormDto): UpdateProbeDto {
  const common = {
    name: form.name,
    active: form.active,
    interval_seconds: form.interval_seconds,
    timeout_seconds: form.timeout_seconds,
  };
  switch (kind) {
    case 'http':
      return {
        ...common,
        url: form.url,
        method: form.method,
        expect_status_min: form.expect_status_min,
        expect_status_max: form.expect_status_max,
        expect_text: form.expect_text,
        cert_warning_days: form.cert_warning_days,
        tls_ca: form.tls_ca,
      };
    case 'tcp':
      return { ...common, host: form.host, port: form.port };
    case 'ssh': {
      const key = form.auth === 'key';
      return {
        ...common,
        host: form.host,
        port: form.port,
        user: form.user,
        host_key_sha256: form.host_key_sha256,
        processes: form.processes ?? [],
        command: form.command,
        ...(form.credential_env
          ? key
            ? { private_key_env: form.credential_env }
            : { password_env: form.credential_env }
          : {}),
        ...(key ? {} : form.password !== undefined ? { password: form.password } : {}),
        ...(key && form.private_key !== undefined ? { private_key: form.private_key } : {}),
      };
    }
  }
}

/** The form as the API's creation request: the service checks what each kind needs. */
export function probeFromForm(form: ProbeFormDto & { kind: (typeof WEB_KINDS)[number] }): CreateProbeDto {
  return { kind: form.kind, ...probeUpdateFromForm(form.kind, form) };
}
