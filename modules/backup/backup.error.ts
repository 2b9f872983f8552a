import type { I18nService } from '../../src/index.js';

/** A backup failure with a translatable reason (`backup.errors.*`); tool output travels in the arguments. */
export class BackupError extends Error {
  constructor(
    readonly key: string,
    readonly args: Record<string, string | number> = {},
  ) {
    super(key);
  }
}

/** An error's text as the `error` argument of a `backup.errors.*` message. */
export function reason(error: unknown): { error: string } {
  return { error: error instanceof Error ? error.message : String(error) };
}

/** The stored error text (English: it mostly quotes the tools' own output). */
export function describeError(error: unknown, i18n: I18nService): string {
  if (error instanceof BackupError) return i18n.t(error.key, 'en', error.args);
  return reason(error).error;
}

/** The storage refused or lost the object. */
export function storageError(error: unknown): BackupError {
  return new BackupError('backup.errors.storage_failed', reason(error));
}
