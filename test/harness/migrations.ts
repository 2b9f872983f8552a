import { DataSource } from 'typeorm';
import type { MigrationClass } from '../../src/addons/manifest.js';
import { CORE_MIGRATIONS, CORE_NAME } from '../../src/bootstrap/core-manifest.js';
import { runMigrations } from '../../src/database/migration-runner.js';

/**
 * Runs core's migrations, then the given ones of one addon, on the database at `url`, as start-up does: with part
 * of an addon's migrations, it leaves a database at an older level, for a test of the next migration on existing
 * rows. Returns the names of the migrations it ran.
 */
export async function migrateAddon(
  url: string,
  addon: string,
  migrations: MigrationClass[],
): Promise<string[]> {
  const dataSource = new DataSource({ type: 'postgres', url });
  await dataSource.initialize();
  try {
    return await runMigrations(dataSource, [
      { addon: CORE_NAME, migrations: CORE_MIGRATIONS },
      { addon, migrations },
    ]);
  } finally {
    await dataSource.destroy();
  }
}
