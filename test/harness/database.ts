import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../../src/paths.js';

/** Addon folders the tests load besides `modules/`: the fixture addon that proves the addon contract. */
export const TEST_ADDON_PATHS = [join(PROJECT_ROOT, 'test', 'fixtures', 'addons')];

/** The server's URL pointed at its `postgres` maintenance database. */
export function serverUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/postgres';
  return parsed.toString();
}

export function templateName(): string {
  const name = process.env.VIGIL_TEST_TEMPLATE;
  if (!name) throw new Error('Run the tests with npm test: the test runner prepares the database server');
  return name;
}

export function databaseUrl(database: string): string {
  const parsed = new URL(process.env.VIGIL_TEST_SERVER_URL ?? '');
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.VIGIL_TEST_SERVER_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const uniqueName = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

/** A database cloned from the migrated template: every suite gets its own. Returns its URL. */
export async function cloneTemplate(): Promise<string> {
  const name = uniqueName('vigil_test');
  // Two clones of one template at the same instant can collide; retrying settles it. The bound is a time, not
  // a number of tries: on a loaded machine the other clone simply holds the template longer.
  const deadline = performance.now() + 60_000;
  for (let attempt = 0; ; attempt++) {
    try {
      await withAdminClient((client) =>
        client.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName()}"`),
      );
      return databaseUrl(name);
    } catch (error) {
      if (performance.now() > deadline || !String(error).includes('being accessed')) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 200 * (attempt + 1))));
    }
  }
}

/** An empty database, for tests of migrations and start-up. Returns its URL. */
export async function emptyDatabase(): Promise<string> {
  const name = uniqueName('vigil_empty');
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  return databaseUrl(name);
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function query<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}
