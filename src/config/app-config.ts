import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

export const RUNNING_ENVS = ['prod', 'integration', 'labs', 'test', 'dev'] as const;
export type RunningEnv = (typeof RUNNING_ENVS)[number];

export interface AppConfig {
  port: number;
  databaseUrl?: string;
  dataDir: string;
  runningEnv: RunningEnv;
  /** The raw RUNNING_ENV value, kept so that an unknown value can be reported. */
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

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function normalizeRunningEnv(raw: string): RunningEnv | undefined {
  if (raw.startsWith('labs')) return 'labs';
  return (RUNNING_ENVS as readonly string[]).includes(raw) ? (raw as RunningEnv) : undefined;
}

function blank(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Reads and validates the environment; every problem is reported at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const problems: string[] = [];
  const rawPort = blank(env.PORT) ?? '3000';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) problems.push(`PORT must be a port number, got "${rawPort}"`);

  const runningEnvRaw = blank(env.RUNNING_ENV) ?? 'dev';
  const runningEnv = normalizeRunningEnv(runningEnvRaw) ?? 'dev';

  const databaseUrl = blank(env.DATABASE_URL);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must start with postgres:// or postgresql://');
  }

  const logFormat = blank(env.LOG_FORMAT) ?? (runningEnv === 'dev' ? 'pretty' : 'json');
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    problems.push(`LOG_FORMAT must be "json" or "pretty", got "${logFormat}"`);
  }
  const logLevel = blank(env.LOG_LEVEL) ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const unsafeRaw = (blank(env.CLOUD_PLATFORM_UNSAFE) ?? '0').toLowerCase();
  if (!['0', '1', 'true', 'false'].includes(unsafeRaw)) {
    problems.push(`CLOUD_PLATFORM_UNSAFE must be 1, true, 0 or false, got "${unsafeRaw}"`);
  }

  const rawPoolSize = blank(env.DATABASE_POOL_SIZE) ?? '10';
  const databasePoolSize = Number(rawPoolSize);
  if (!/^\d+$/.test(rawPoolSize) || databasePoolSize < 1 || databasePoolSize > 1000) {
    problems.push(`DATABASE_POOL_SIZE must be a whole number from 1 to 1000, got "${rawPoolSize}"`);
  }

  const trustProxyRaw = (blank(env.TRUST_PROXY) ?? '0').toLowerCase();
  if (!['0', '1', 'true', 'false'].includes(trustProxyRaw)) {
    problems.push(`TRUST_PROXY must be 1, true, 0 or false, got "${trustProxyRaw}"`);
  }

  const rawConcurrency = (blank(env.WEB_CONCURRENCY) ?? '1').toLowerCase();
  const webConcurrency = rawConcurrency === 'auto' ? availableParallelism() : Number(rawConcurrency);
  if (
    rawConcurrency !== 'auto' &&
    (!/^\d+$/.test(rawConcurrency) || webConcurrency < 1 || webConcurrency > 64)
  ) {
    problems.push(`WEB_CONCURRENCY must be a whole number from 1 to 64 or "auto", got "${rawConcurrency}"`);
  }

  const smtpUrl = blank(env.SMTP_URL);
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must start with smtp:// or smtps://');

  const adminEmail = blank(env.ADMIN_EMAIL);
  const adminPassword = blank(env.ADMIN_PASSWORD);
  if (adminPassword !== undefined && adminPassword.length < 8) {
    problems.push('ADMIN_PASSWORD must have at least 8 characters');
  }

  const addons = blank(env.ADDONS)
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);

  const addonsPath = (blank(env.ADDONS_PATH) ?? '')
    .split(',')
    .map((folder) => folder.trim())
    .filter(Boolean)
    .map((folder) => resolve(folder));

  if (problems.length) throw new ConfigError(problems);
  return {
    port,
    databaseUrl,
    dataDir: resolve(blank(env.DATA_DIR) ?? './var'),
    runningEnv,
    runningEnvRaw,
    addons,
    addonsPath,
    adminEmail,
    adminPassword,
    sessionSecret: blank(env.SESSION_SECRET),
    smtpUrl,
    mailFrom: blank(env.MAIL_FROM) ?? 'Vigil <vigil@localhost>',
    logFormat: logFormat as 'json' | 'pretty',
    logLevel,
    metricsToken: blank(env.METRICS_TOKEN),
    cloudPlatformUnsafe: unsafeRaw === '1' || unsafeRaw === 'true',
    databasePoolSize,
    trustProxy: trustProxyRaw === '1' || trustProxyRaw === 'true',
    webConcurrency,
    env: { ...env },
  };
}
