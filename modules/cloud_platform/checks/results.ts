import type { CheckResult, CheckStatus } from '../../../src/index.js';

type Args = Record<string, string | number>;

/** A result whose texts are `cloud_platform.checks.<name>` keys; the fix is `<message>_fix`. */
export function result(
  status: CheckStatus,
  message: string,
  args: Args = {},
  fixArgs: Args = args,
): CheckResult {
  const key = `cloud_platform.checks.${message}`;
  return status === 'ok'
    ? { status, message: { key, args } }
    : { status, message: { key, args }, fix: { key: `${key}_fix`, args: fixArgs } };
}
