import type { INestApplicationContext } from '@nestjs/common';
import { AppException, I18nService, systemContext, type CliCommand } from '../../src/index.js';
import { BackupConfigsService } from './backup-configs.service.js';
import { BackupsService } from './backups.service.js';
import { ProgressLine } from './progress-line.js';

function service<T>(app: INestApplicationContext, type: abstract new (...args: never[]) => T): T {
  return app.get(type, { strict: false });
}

/** Prints a refusal in English (keys of `AppException`s translated) and returns the exit code 1. */
function refuse(app: INestApplicationContext, error: unknown): number {
  if (!(error instanceof AppException)) throw error;
  console.error(service(app, I18nService).t(error.key, 'en', error.args));
  return 1;
}

function positiveInteger(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!value || !Number.isInteger(id) || id < 1) throw new Error(`${what} must be a positive integer id`);
  return id;
}

/** `npx vigil backup:run <config>`: one backup now, waiting for it (verification and rotation included). */
export const backupRunCommand: CliCommand = {
  name: 'backup:run',
  description: 'back up a configuration now and wait for the verified result',
  arguments: [['<config>', 'the backup configuration id']],
  async run(app, _options, [config]) {
    const id = positiveInteger(config, 'config');
    try {
      console.log(`Backing up configuration ${id}…`);
      const progress = new ProgressLine('dumped', process.stdout);
      const backup = await service(app, BackupConfigsService).run(systemContext(), id, {
        wait: true,
        onProgress: (bytes) => progress.update(bytes),
      });
      progress.end();
      if (backup.status !== 'done') {
        console.error(`Backup ${backup.id} failed: ${backup.error ?? 'unknown error'}`);
        return 1;
      }
      console.log(
        `Backup ${backup.id} done and verified: ${backup.object_key}, ${backup.size} bytes, sha256 ${backup.sha256}, ${backup.duration_ms} ms`,
      );
      return 0;
    } catch (error) {
      return refuse(app, error);
    }
  },
};

/** `npx vigil backup:restore <backup> --into <name>`: restores into a new database. */
export const backupRestoreCommand: CliCommand = {
  name: 'backup:restore',
  description: 'restore a backup into a new database (its backup configurations switched off)',
  arguments: [['<backup>', 'the backup id']],
  options: [['--into <name>', 'name of the new database (must not exist)']],
  async run(app, options, [backup]) {
    const id = positiveInteger(backup, 'backup');
    const into = typeof options.into === 'string' ? options.into : '';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(into)) {
      console.error('--into must name a new database: lower-case letters, digits and underscores');
      return 1;
    }
    try {
      console.log(`Restoring backup ${id} into ${into}…`);
      const progress = new ProgressLine('restored', process.stdout);
      const restored = await service(app, BackupsService).restore(systemContext(), id, into, (bytes) =>
        progress.update(bytes),
      );
      progress.end();
      console.log(
        `Restored backup ${restored.backup_id} into ${restored.database}; ${restored.deactivated_configs} backup configuration(s) switched off there`,
      );
      return 0;
    } catch (error) {
      return refuse(app, error);
    }
  },
};

/** `npx vigil backup:import-odoo-zip <file> --config <id> --into <name>`: restores a zip made by Odoo's manager. */
export const backupImportOdooZipCommand: CliCommand = {
  name: 'backup:import-odoo-zip',
  description:
    "restore a zip written by Odoo's database manager into a new database on a configuration's server (filestore beside the configuration's)",
  arguments: [['<file>', 'the zip file (dump.sql, filestore/, manifest.json)']],
  options: [
    ['--config <id>', 'the backup configuration whose database server (and filestore folder) receive it'],
    ['--into <name>', 'name of the new database (must not exist)'],
  ],
  async run(app, options, [file]) {
    const configId = positiveInteger(
      typeof options.config === 'string' ? options.config : undefined,
      'config',
    );
    const into = typeof options.into === 'string' ? options.into : '';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(into)) {
      console.error('--into must name a new database: lower-case letters, digits and underscores');
      return 1;
    }
    try {
      console.log(`Restoring ${file} into ${into}…`);
      const restored = await service(app, BackupsService).importOdooZip(
        systemContext(),
        configId,
        file,
        into,
      );
      console.log(
        `Restored ${file} into ${restored.database}` +
          (restored.filestore
            ? `; ${restored.filestore_files} filestore file(s) into ${restored.filestore}`
            : ''),
      );
      return 0;
    } catch (error) {
      return refuse(app, error);
    }
  },
};
