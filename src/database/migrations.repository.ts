import type { DataSource, MigrationInterface } from 'typeorm';
import type { SecretKeys } from './secret-keys.js';

/** What a migration may need besides SQL: keys, for one that seals values already stored in clear. */
export interface MigrationContext {
  /** The server's keys; asked only when a migration has something to seal (the master secret may not exist yet). */
  secretKeys(): Promise<SecretKeys>;
}

export type MigrationClass = (new (context: MigrationContext) => MigrationInterface) & {
  /**
   * The addon that declared this migration before it moved to the one declaring it now (a static property, e.g. the
   * probes' migrations, run by `dead_mans_switch_server` before `dead_mans_switch_probes` existed): a database that
   * recorded it under that addon does not run it again, and its record moves to the new addon.
   */
  readonly movedFrom?: string;
};

const NO_KEYS: MigrationContext = {
  secretKeys: () => Promise.reject(new Error('this migration needs the server secret (SESSION_SECRET)')),
};

export interface MigrationGroup {
  addon: string;
  migrations: MigrationClass[];
}

/** Trailing digits of a migration class name (`CoreInit1732300000000`) order it within its addon. */
function timestampOf(migration: MigrationClass): number {
  const match = /(\d{13})$/.exec(migration.name);
  if (!match) throw new Error(`Migration class ${migration.name} must end with a 13-digit timestamp`);
  return Number(match[1]);
}

// One key for every Vigil process on a database: whoever holds it migrates, the others wait and then find
// nothing left to do.
const MIGRATION_LOCK = 74_110_001;

/**
 * The `migration` table and the migrations themselves. Used before the application exists, on a data source of its
 * own (`new MigrationsRepository(dataSource)`).
 */
export class MigrationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Runs pending TypeORM migrations, core's first then each addon's in dependency order, each in its own
   * transaction, under an advisory lock so that replicas starting together migrate once.
   * Returns the names of the migrations it ran.
   */
  async runPending(groups: MigrationGroup[], context: MigrationContext = NO_KEYS): Promise<string[]> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const ran: string[] = [];
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await runner.query(`CREATE TABLE IF NOT EXISTS migration (
        addon text NOT NULL,
        name text NOT NULL,
        executed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (addon, name))`);
      const done = new Set(
        ((await runner.query('SELECT addon, name FROM migration')) as { addon: string; name: string }[]).map(
          (row) => `${row.addon}/${row.name}`,
        ),
      );
      for (const group of groups) {
        for (const Migration of group.migrations) {
          const before = Migration.movedFrom && `${Migration.movedFrom}/${Migration.name}`;
          if (!before || !done.has(before) || done.has(`${group.addon}/${Migration.name}`)) continue;
          await runner.query('UPDATE migration SET addon = $1 WHERE addon = $2 AND name = $3', [
            group.addon,
            Migration.movedFrom,
            Migration.name,
          ]);
          done.delete(before);
          done.add(`${group.addon}/${Migration.name}`);
        }
        const pending = group.migrations
          .filter((migration) => !done.has(`${group.addon}/${migration.name}`))
          .sort((a, b) => timestampOf(a) - timestampOf(b));
        for (const Migration of pending) {
          await runner.startTransaction();
          try {
            await new Migration(context).up(runner);
            await runner.query('INSERT INTO migration (addon, name) VALUES ($1, $2)', [
              group.addon,
              Migration.name,
            ]);
            await runner.commitTransaction();
            ran.push(`${group.addon}/${Migration.name}`);
          } catch (error) {
            await runner.rollbackTransaction();
            throw new Error(
              `Migration ${group.addon}/${Migration.name} failed: ${error instanceof Error ? error.message : String(error)}`,
              { cause: error },
            );
          }
        }
      }
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await runner.release();
    }
    return ran;
  }
}
