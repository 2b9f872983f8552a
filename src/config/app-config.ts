import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Expose, plainToInstance, Transform, type TransformFnParams } from 'class-transformer';
import {
  IsIn,
  IsOptional,
  Matches,
  MinLength,
  ValidateBy,
  ValidateIf,
  validateSync,
  type ValidationArguments,
} from 'class-validator';

export const RUNNING_ENVS = ['prod', 'integration', 'labs', 'test', 'dev'] as const;
export type RunningEnv = (typeof RUNNING_ENVS)[number];

export interface AppConfig {
  port: number;
  databaseUrl?: string;
  dataDir: string;
  runningEnv: RunningEnv;
  /** The RUNNING_ENV value as given (`labs-feature-42` is the environment `labs`). */
  runningEnvRaw: string;
  addons?: string[];
  /** Extra folders holding addons, besides `modules/`. */
  addonsPath: string[];
  adminEmail?: string;
  adminPassword?: string;
  sessionSecret?: string;
  smtpUrl?: string;
  mailFrom: string;
  logFormat: 'json' | 'pretty';
  logLevel: string;
  metricsToken?: string;
  cloudPlatformUnsafe: boolean;
  /** Connections per process (DATABASE_POOL_SIZE). */
  databasePoolSize: number;
  /** Behind one reverse proxy: the client address comes from X-Forwarded-For (TRUST_PROXY). */
  trustProxy: boolean;
  /** HTTP worker processes of one server (WEB_CONCURRENCY; `auto` = one per core). */
  webConcurrency: number;
  /** Every variable, for addons that read their own. */
  env: Readonly<Record<string, string | undefined>>;
}

/** Exit code of a process that refuses its configuration or its addons (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const FLAGS = ['0', '1', 'true', 'false'];

export function normalizeRunningEnv(raw: string): RunningEnv | undefined {
  if (raw.startsWith('labs')) return 'labs';
  return (RUNNING_ENVS as readonly string[]).includes(raw) ? (raw as RunningEnv) : undefined;
}

/** A variable's value, trimmed; blank counts as unset (then `fallback`). */
function text(value: unknown, fallback?: string): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

/** A variable read even when unset, trimmed, blank as unset, then `fallback`. */
const Variable =
  (fallback?: string, lowerCase = false): PropertyDecorator =>
  (target, key) => {
    Expose()(target, key);
    Transform(({ value }) => (lowerCase ? text(value, fallback)?.toLowerCase() : text(value, fallback)))(
      target,
      key,
    );
  };

const got = (name: string, rule: string) => (args: ValidationArguments) =>
  `${name} ${rule}, got "${String(args.value)}"`;

/** A whole number (digits only) from `min` to `max`. */
const WholeNumber = (min: number, max: number, message: (args: ValidationArguments) => string) =>
  ValidateBy({
    name: 'wholeNumber',
    validator: {
      validate: (value) => typeof value === 'string' && /^\d+$/.test(value) && +value >= min && +value <= max,
      defaultMessage: message,
    },
  });

const Flag = (name: string) => IsIn(FLAGS, { message: got(name, 'must be 1, true, 0 or false') });

/**
 * The environment variables core reads, with their defaults and rules. Blank counts as unset. Problems are listed
 * in the order of the properties, one per variable.
 */
export class EnvironmentVariables {
  @Variable('3000')
  @WholeNumber(0, 65535, got('PORT', 'must be a port number'))
  PORT: string;

  // An unknown value is refused rather than run as dev: a typo in prod (`production`) would otherwise disable
  // secure cookies, HSTS and the environment checks' refusals, and open /metrics.
  @Variable('dev')
  @ValidateBy({
    name: 'runningEnv',
    validator: {
      validate: (value) => typeof value === 'string' && normalizeRunningEnv(value) !== undefined,
      defaultMessage: got('RUNNING_ENV', 'must be prod, integration, labs (or labs…), test or dev'),
    },
  })
  RUNNING_ENV: string;

  @Variable()
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must start with postgres:// or postgresql://' })
  DATABASE_URL?: string;

  // The default depends on the environment: pretty in dev, else json (an unknown RUNNING_ENV is refused above).
  @Expose()
  @Transform(({ value, obj }: TransformFnParams) => {
    const runningEnv =
      normalizeRunningEnv(text((obj as Record<string, unknown>).RUNNING_ENV, 'dev')!) ?? 'dev';
    return text(value, runningEnv === 'dev' ? 'pretty' : 'json');
  })
  @IsIn(['json', 'pretty'], { message: got('LOG_FORMAT', 'must be "json" or "pretty"') })
  LOG_FORMAT: 'json' | 'pretty';

  @Variable('info')
  @IsIn(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: string;

  @Variable('0', true)
  @Flag('CLOUD_PLATFORM_UNSAFE')
  CLOUD_PLATFORM_UNSAFE: string;

  @Variable('10')
  @WholeNumber(1, 1000, got('DATABASE_POOL_SIZE', 'must be a whole number from 1 to 1000'))
  DATABASE_POOL_SIZE: string;

  @Variable('0', true)
  @Flag('TRUST_PROXY')
  TRUST_PROXY: string;

  @Variable('1', true)
  @ValidateIf((variables: EnvironmentVariables) => variables.WEB_CONCURRENCY !== 'auto')
  @WholeNumber(1, 64, got('WEB_CONCURRENCY', 'must be a whole number from 1 to 64 or "auto"'))
  WEB_CONCURRENCY: string;

  @Variable()
  @IsOptional()
  @Matches(/^smtps?:\/\//, { message: 'SMTP_URL must start with smtp:// or smtps://' })
  SMTP_URL?: string;

  @Variable()
  @IsOptional()
  @MinLength(8, { message: 'ADMIN_PASSWORD must have at least 8 characters' })
  ADMIN_PASSWORD?: string;

  // Read as they are.
  @Variable('./var') DATA_DIR: string;
  @Variable() ADDONS?: string;
  @Variable() ADDONS_PATH?: string;
  @Variable() ADMIN_EMAIL?: string;
  @Variable() SESSION_SECRET?: string;
  @Variable('Vigil <vigil@localhost>') MAIL_FROM: string;
  @Variable() METRICS_TOKEN?: string;
}

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

const on = (flag: string) => flag === '1' || flag === 'true';

/**
 * Reads and validates the environment against `EnvironmentVariables`; every problem is reported at once, in one
 * ConfigError. Takes the variables and returns the validated configuration, as a `validate` function does.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const v = plainToInstance(EnvironmentVariables, env, { excludeExtraneousValues: true });
  const errors = validateSync(v, { stopAtFirstError: true });
  if (errors.length) throw new ConfigError(errors.flatMap((error) => Object.values(error.constraints ?? {})));
  return {
    port: Number(v.PORT),
    databaseUrl: v.DATABASE_URL,
    dataDir: resolve(v.DATA_DIR),
    runningEnv: normalizeRunningEnv(v.RUNNING_ENV)!,
    runningEnvRaw: v.RUNNING_ENV,
    addons: v.ADDONS === undefined ? undefined : list(v.ADDONS),
    addonsPath: list(v.ADDONS_PATH).map((folder) => resolve(folder)),
    adminEmail: v.ADMIN_EMAIL,
    adminPassword: v.ADMIN_PASSWORD,
    sessionSecret: v.SESSION_SECRET,
    smtpUrl: v.SMTP_URL,
    mailFrom: v.MAIL_FROM,
    logFormat: v.LOG_FORMAT,
    logLevel: v.LOG_LEVEL,
    metricsToken: v.METRICS_TOKEN,
    cloudPlatformUnsafe: on(v.CLOUD_PLATFORM_UNSAFE),
    databasePoolSize: Number(v.DATABASE_POOL_SIZE),
    trustProxy: on(v.TRUST_PROXY),
    webConcurrency: v.WEB_CONCURRENCY === 'auto' ? availableParallelism() : Number(v.WEB_CONCURRENCY),
    env: { ...env },
  };
}
