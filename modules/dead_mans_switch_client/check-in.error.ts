/** A failed check-in, with a translation key so that administrators read it in their language. */
export class CheckInError extends Error {
  constructor(
    readonly key: string,
    readonly args: Record<string, string | number> = {},
    message?: string,
  ) {
    super(message ?? key);
  }
}
