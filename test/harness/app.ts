import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { loadConfig } from '../../src/config/app-config.js';
import { startVigil, type Vigil } from '../../src/bootstrap/application.js';
import { type Clock } from '../../src/scheduler/clock.js';
import { TEST_ADDON_PATHS } from './database.js';

export const ADMIN = { email: 'admin@vigil.test', password: 'admin-password-1' };
export const TEST_SESSION_SECRET = 'test-session-secret-that-is-long-enough-for-hs256';

export interface TestAppOptions {
  databaseUrl: string;
  clock?: Clock;
  /** Extra environment variables (ADDONS, SMTP_URL, …). */
  env?: Record<string, string>;
  scheduler?: boolean;
  /** Where log lines go instead of stdout. */
  logDestination?: DestinationStream;
}

export interface TestApp {
  vigil: Vigil;
  url: string;
  close(): Promise<void>;
  get<T>(token: abstract new (...args: never[]) => T): T;
}

/** Boots the whole application on 127.0.0.1 and a free port, as `npm start` would, against a test database. */
export async function startTestApp(options: TestAppOptions): Promise<TestApp> {
  const config = loadConfig({
    // dev, as on a developer's machine: most environment checks only warn; tests of the checks set their own.
    RUNNING_ENV: 'dev',
    LOG_LEVEL: process.env.VIGIL_TEST_LOG ?? 'silent',
    LOG_FORMAT: 'json',
    PORT: '0',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-data-')),
    DATABASE_URL: options.databaseUrl,
    SESSION_SECRET: TEST_SESSION_SECRET,
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    ADDONS_PATH: TEST_ADDON_PATHS.join(','),
    ...options.env,
  });
  const vigil = await startVigil({
    config,
    clock: options.clock,
    listen: true,
    host: '127.0.0.1',
    scheduler: options.scheduler ?? false,
    logDestination: options.logDestination,
  });
  return {
    vigil,
    url: vigil.url!,
    close: () => vigil.close(),
    get: <T>(token: abstract new (...args: never[]) => T) => vigil.app.get<T>(token, { strict: false }),
  };
}
