import { DataSource } from 'typeorm';
import type { MigrationClass } from '../../src/addons/manifest.js';
import { CORE } from '../../src/bootstrap/core-manifest.js';
import { MigrationsRepository } from '../../src/database/migrations.repository.js';

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
    return await new MigrationsRepository(dataSource).runPending([
      { addon: CORE.manifest.name, migrations: CORE.manifest.migrations },
      { addon, migrations },
    ]);
  } finally {
    await dataSource.destroy();
  }
}
