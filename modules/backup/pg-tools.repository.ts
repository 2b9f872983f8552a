import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../../src/index.js';
import { ENV } from './settings.js';

/** A child process's stdout and the promise of its end (rejected with its stderr when it fails). */
export interface RunningDump {
  stdout: Readable;
  done: Promise<void>;
  kill(): void;
}

/** A transaction holding an exported snapshot (`pg_export_snapshot()`), with the row counts it sees. */
export interface HeldSnapshot {
  id: string;
  /** Row count of every table, inside the snapshot (empty when not asked for). */
  counts: Record<string, number>;
  /** A query inside the snapshot's transaction. */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}

/** What Odoo's `dump_db_manifest` writes into `manifest.json`, read from the database itself. */
export interface OdooManifest {
  odoo_dump: '1';
  db_name: string;
  version: string;
  version_info: (number | string)[];
  major_version: string;
  pg_version: string;
  modules: Record<string, string | null>;
}

/** Every table outside the system schemas, quoted for SQL. */
const TABLES_SQL = `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
  WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`;

/** Keep the end of a tool's error output: enough to say what went wrong, bounded whatever it prints. */
const MAX_STDERR = 4000;

/** The PostgreSQL client tools (pg_dump, pg_restore) and the SQL that backups and restores need. */
@Injectable()
export class PgToolsRepository {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  private tool(name: 'pg_dump' | 'pg_restore' | 'psql'): string {
    const bin = this.config.env[ENV.pgBin]?.trim();
    return bin ? join(bin, name) : name;
  }

  /** The major version of the pg_dump that backups use, from `pg_dump --version`. */
  async dumpMajorVersion(): Promise<number> {
    const { stdout } = await this.exec(this.tool('pg_dump'), ['--version']);
    const match = /\(PostgreSQL\)\s+(\d+)/.exec(stdout) ?? /(\d+)(?:\.\d+)?/.exec(stdout);
    if (!match) throw new Error(`cannot read the version of pg_dump from "${stdout.trim()}"`);
    return Number(match[1]);
  }

  async serverMajorVersion(url: string): Promise<number> {
    const [row] = await this.query<{ v: string }>(url, "SELECT current_setting('server_version_num') AS v");
    const major = Math.floor(Number(row.v) / 10000);
    if (!Number.isInteger(major) || major < 1)
      throw new Error(`cannot read the server version from "${row.v}"`);
    return major;
  }

  /** The server's data folder, or null when this role may not read it. */
  async dataDirectory(url: string): Promise<string | null> {
    try {
      const [row] = await this.query<{ data_directory: string }>(url, 'SHOW data_directory');
      return row.data_directory;
    } catch {
      return null;
    }
  }

  /**
   * `pg_dump -Fc` of the database, streamed on stdout; inside an exported snapshot when one is given. `plain` is
   * the SQL script of Odoo's zip format, as Odoo's `dump_db` writes it (`pg_dump --no-owner`).
   */
  dump(url: string, snapshot?: string, format: 'custom' | 'plain' = 'custom'): RunningDump {
    const args = [
      ...(format === 'custom' ? ['-Fc'] : ['--no-owner']),
      '--no-password',
      ...(snapshot ? [`--snapshot=${snapshot}`] : []),
    ];
    return this.start(this.tool('pg_dump'), args, url);
  }

  /** Runs an SQL script read from `input` with psql, stopping at its first error (a partial restore is a failure). */
  async runScript(input: Readable, url: string): Promise<void> {
    const child = this.start(
      this.tool('psql'),
      ['-q', '-X', '-v', 'ON_ERROR_STOP=1', '--no-password', '-f', '-'],
      url,
      input,
    );
    child.stdout.resume();
    await child.done;
  }

  /**
   * The manifest Odoo's `dump_db_manifest` writes, inside the snapshot: installed modules and their versions, the
   * server version as Odoo spells it, and Odoo's version read from the `base` module (Vigil does not run Odoo).
   */
  async odooManifest(snapshot: HeldSnapshot, dbName: string): Promise<OdooManifest> {
    const [{ v }] = await snapshot.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    // Odoo: "%d.%d" % divmod(server_version / 100, 100) — 150004 is "15.0".
    const hundredths = Number(v) / 100;
    const pgVersion = `${Math.floor(hundredths / 100)}.${Math.floor(hundredths % 100)}`;
    const [table] = await snapshot.query<{ t: string | null }>(
      "SELECT to_regclass('ir_module_module')::text AS t",
    );
    const modules: Record<string, string | null> = {};
    if (table.t)
      for (const row of await snapshot.query<{ name: string; latest_version: string | null }>(
        "SELECT name, latest_version FROM ir_module_module WHERE state = 'installed' ORDER BY name",
      ))
        modules[row.name] = row.latest_version;
    // base 17.0.1.3 is Odoo 17.0; saas~17.1.1.0 is saas~17.1.
    const base = /^((saas~)?(\d+))\.(\d+)/.exec(modules.base ?? '');
    const major = base ? Number(base[3]) : 0;
    const minor = base ? Number(base[4]) : 0;
    const majorVersion = base ? `${base[1]}.${minor}` : '';
    return {
      odoo_dump: '1',
      db_name: dbName,
      version: majorVersion,
      version_info: [base?.[2] ? `saas~${major}` : major, minor, 0, 'final', 0, ''],
      major_version: majorVersion,
      pg_version: pgVersion,
      modules,
    };
  }

  /**
   * The filestore files the database references (`ir_attachment.store_fname`) in the snapshot, in batches read
   * through a cursor: a million attachments never sit in memory at once.
   */
  async *attachmentFiles(snapshot: HeldSnapshot, batch = 1000): AsyncGenerator<string[]> {
    const [table] = await snapshot.query<{ t: string | null }>(
      "SELECT to_regclass('ir_attachment')::text AS t",
    );
    if (!table.t) return;
    await snapshot.query(
      `DECLARE vigil_store_fnames NO SCROLL CURSOR FOR
         SELECT DISTINCT store_fname FROM ir_attachment WHERE coalesce(store_fname, '') <> '' ORDER BY 1`,
    );
    try {
      for (;;) {
        const rows = await snapshot.query<{ store_fname: string }>(
          `FETCH FORWARD ${batch} FROM vigil_store_fnames`,
        );
        if (!rows.length) return;
        yield rows.map((row) => row.store_fname);
      }
    } finally {
      await snapshot.query('CLOSE vigil_store_fnames').catch(() => undefined);
    }
  }

  /**
   * Opens a repeatable-read transaction, exports its snapshot and counts every table's rows inside it: the
   * counts of exactly what a `pg_dump --snapshot` of it will hold. The transaction stays open until released.
   */
  async exportSnapshot(url: string, options: { count?: boolean } = {}): Promise<HeldSnapshot> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
      const counts = options.count === false ? {} : await countTables(client);
      let released: Promise<void> | undefined;
      return {
        id: rows[0].id,
        counts,
        query: async <T>(sql: string, params: unknown[] = []) =>
          (await client.query(sql, params)).rows as T[],
        release: () =>
          (released ??= client
            .query('COMMIT')
            .then(
              () => undefined,
              () => undefined,
            )
            .then(() => client.end())),
      };
    } catch (error) {
      await client.end();
      throw error;
    }
  }

  /**
   * Neutralizes a restored Odoo copy as Odoo's `neutralize_database` and a database copy do: scheduled actions and
   * outgoing (and incoming) mail servers off, a new `database.uuid`, `database.is_neutralized` set. Tables a
   * database lacks are skipped. Returns what was done, e.g. `ir_cron: 3, ir_mail_server: 1, database.uuid`.
   */
  async neutralizeOdoo(url: string): Promise<string> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const done: string[] = [];
      const has = async (table: string) =>
        (await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table])).rows[0].t !==
        null;
      for (const table of ['ir_cron', 'ir_mail_server', 'fetchmail_server'])
        if (await has(table)) {
          const result = await client.query(`UPDATE ${table} SET active = false WHERE active`);
          done.push(`${table}: ${result.rowCount ?? 0}`);
        }
      if (await has('ir_config_parameter')) {
        await client.query(
          `UPDATE ir_config_parameter SET value = gen_random_uuid()::text WHERE key = 'database.uuid'`,
        );
        await client.query(
          `INSERT INTO ir_config_parameter (key, value) SELECT 'database.is_neutralized', 'True'
           WHERE NOT EXISTS (SELECT 1 FROM ir_config_parameter WHERE key = 'database.is_neutralized')`,
        );
        done.push('database.uuid');
      }
      return done.join(', ');
    } finally {
      await client.end();
    }
  }

  /**
   * The `ir_attachment.store_fname` values of a database, in batches (keyset pages: never all of them in memory).
   */
  async *storeFnames(url: string, batch = 5000): AsyncGenerator<string[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const [table] = (
        await client.query<{ t: string | null }>("SELECT to_regclass('ir_attachment')::text AS t")
      ).rows;
      if (!table.t) return;
      let last = '';
      for (;;) {
        const { rows } = await client.query<{ f: string }>(
          `SELECT DISTINCT store_fname AS f FROM ir_attachment WHERE coalesce(store_fname, '') > $1
           ORDER BY 1 LIMIT ${batch}`,
          [last],
        );
        if (!rows.length) return;
        last = rows[rows.length - 1].f;
        yield rows.map((row) => row.f);
      }
    } finally {
      await client.end();
    }
  }

  /** Row count of every table of a database. */
  async countRows(url: string): Promise<Record<string, number>> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await countTables(client);
    } finally {
      await client.end();
    }
  }

  /** `pg_restore --list` of an archive read from `input`: resolves with the table of contents. */
  async list(input: Readable): Promise<string> {
    const child = this.start(this.tool('pg_restore'), ['--list'], undefined, input);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    await child.done;
    return Buffer.concat(chunks).toString('utf8');
  }

  /** `pg_restore` of an archive read from `input` into the database at `url`. */
  async restore(input: Readable, url: string): Promise<void> {
    const child = this.start(
      this.tool('pg_restore'),
      ['--no-owner', '--no-privileges', '--exit-on-error', '--no-password'],
      url,
      input,
    );
    child.stdout.resume();
    await child.done;
  }

  async databaseExists(url: string, name: string): Promise<boolean> {
    const rows = await this.query(url, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rows.length > 0;
  }

  /** A new database; `odoo` creates it as Odoo's database manager does (UTF-8, collation C, from template0). */
  async createDatabase(url: string, name: string, options: { odoo?: boolean } = {}): Promise<void> {
    const odoo = options.odoo ? " ENCODING 'unicode' LC_COLLATE 'C' TEMPLATE template0" : '';
    await this.query(url, `CREATE DATABASE ${pg.escapeIdentifier(name)}${odoo}`);
  }

  async dropDatabase(url: string, name: string): Promise<void> {
    await this.query(url, `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  }

  /**
   * In a restored copy: every backup configuration off, so the copy never writes into the same storage; the run
   * that was in progress when the dump was taken (the dump's own) is closed without alerting anyone.
   */
  async deactivateConfigs(url: string, note: string): Promise<number> {
    const [exists] = await this.query<{ t: string | null }>(
      url,
      "SELECT to_regclass('backup_config')::text AS t",
    );
    if (!exists.t) return 0;
    const rows = await this.query(
      url,
      'UPDATE backup_config SET active = false, next_run_at = NULL WHERE active RETURNING id',
    );
    await this.query(
      url,
      "UPDATE backup_backup SET status = 'failed', error = $1, lease_until = NULL WHERE status = 'running'",
      [note],
    );
    return rows.length;
  }

  private async query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  private exec(command: string, args: string[]): Promise<{ stdout: string }> {
    const child = this.start(command, args);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    return child.done.then(() => ({ stdout: Buffer.concat(chunks).toString('utf8') }));
  }

  /**
   * Spawns a tool; the database URL travels as a connection string without its password, which goes through
   * PGPASSWORD so that it never shows in the process list.
   */
  private start(command: string, args: string[], url?: string, input?: Readable): RunningDump {
    const env: NodeJS.ProcessEnv = { ...process.env };
    const fullArgs = [...args];
    if (url) {
      const parsed = new URL(url);
      if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
      parsed.password = '';
      fullArgs.push(`--dbname=${parsed.toString()}`);
    }
    const child = spawn(command, fullArgs, { env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-MAX_STDERR);
    });
    if (input && child.stdin) feed(input, child.stdin);
    const done = new Promise<void>((resolve, reject) => {
      child.on('error', (error) =>
        reject(new Error(`cannot run ${command}: ${error.message}`, { cause: error })),
      );
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `${command.split('/').pop()} exited with ${code ?? signal}: ${stderr.trim() || 'no error output'}`,
            ),
          );
      });
    });
    return { stdout: child.stdout!, done, kill: () => child.kill('SIGTERM') };
  }
}

async function countTables(client: pg.Client): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const { rows } = await client.query<{ name: string }>(TABLES_SQL);
  for (const { name } of rows) {
    const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
    counts[name] = Number(result.rows[0].n);
  }
  return counts;
}

/**
 * Pipes `input` into a child's stdin. The child may stop reading early (pg_restore --list reads the table of
 * contents only): then the rest of the input is dropped rather than failing the write.
 */
function feed(input: Readable, stdin: Writable): void {
  stdin.on('error', () => input.destroy());
  input.on('error', () => stdin.destroy());
  input.pipe(stdin);
}
