/** A backup failure with a translatable reason (`backup.errors.*`); tool output travels in the arguments. */
export class BackupError extends Error {
  constructor(
    readonly key: string,
    readonly args: Record<string, string | number> = {},
  ) {
    super(key);
  }
}
