import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { query } from '../../../test/harness/database.js';
import type { TestApp } from '../../../test/harness/app.js';
import { Api } from '../../../test/harness/http.js';
import { BackupRunner } from '../backup-runner.service.js';

/** Polls `probe` until it returns a value, failing after `timeoutMs` with `what` (never decides by time alone). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits until a backup started through the API is no longer running, then until the app's background runs
 * (success note, rotation) have ended, and returns the backup as the API shows it.
 */
export async function settled(app: TestApp, api: Api, id: number): Promise<Record<string, any>> {
  await waitFor(async () => {
    const { body } = await api.get(`/api/v1/backup/backups/${id}`);
    return body.status === 'running' ? undefined : true;
  }, `backup ${id} to end`);
  await app.get(BackupRunner).idle();
  return (await api.get(`/api/v1/backup/backups/${id}`)).body as Record<string, any>;
}

/** Logs in and returns the bearer token (for raw fetches such as downloads). */
export async function tokenOf(app: TestApp, email: string, password: string): Promise<string> {
  const result = await new Api(app.url).post<{ access_token: string }>('/api/v1/auth/login', {
    email,
    password,
  });
  return result.body.access_token;
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The row count of every table in the public schema. */
export async function tableCounts(url: string): Promise<Record<string, number>> {
  const tables = await query<{ name: string }>(
    url,
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [row] = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM "${name}"`);
    counts[name] = row.n;
  }
  return counts;
}

/** The passphrase variable of test apps: backups of Vigil's own database are always encrypted. */
export const BACKUP_ENV = {
  BACKUP_PASSPHRASE: 'correct horse battery staple, for tests only',
  // scrypt at age's 2^18 takes a second and 256 MiB per backup, twice per run (encrypt, verify): tests use 2^10.
  BACKUP_SCRYPT_LOG_N: '10',
};

/** A config body for the API, local storage by default, encrypted (with BACKUP_ENV in the app's environment). */
export const configBody = (fields: Record<string, unknown> = {}) => ({
  name: 'Nightly',
  storage: 'local',
  encryption_env: 'BACKUP_PASSPHRASE',
  cron: '0 3 * * *',
  time_zone: 'Europe/Brussels',
  ...fields,
});
