import { randomUUID } from 'node:crypto';
import type { TestApp } from '../../../test/harness/app.js';
import { query } from '../../../test/harness/database.js';
import type { HttpResult } from '../../../test/harness/http.js';
import type { ManualClock } from '../../../src/index.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';

/** POSTs a raw body to the alive endpoint, as a client would (JSON content type unless told otherwise). */
export async function postAlive(
  app: TestApp,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(`${app.url}/dead_mans_switch/alive`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** The JSON-RPC envelope of the OCA client (no id). */
export const jsonRpc = (params: Record<string, unknown>) => ({ jsonrpc: '2.0', method: 'call', params });

export const newUuid = () => randomUUID();

export async function count(
  db: string,
  table: string,
  where = 'true',
  params: unknown[] = [],
): Promise<number> {
  const [row] = await query<{ n: number }>(
    db,
    `SELECT count(*)::int AS n FROM ${table} WHERE ${where}`,
    params,
  );
  return row.n;
}

export async function instanceByUuid(db: string, uuid: string) {
  const [row] = await query(db, 'SELECT * FROM dead_mans_switch_instance WHERE database_uuid = $1', [uuid]);
  return row;
}

/** Moves the clock forward by `seconds`, running a watchdog pass every `step` seconds as the scheduler would. */
export async function elapse(app: TestApp, clock: ManualClock, seconds: number, step = 30): Promise<void> {
  const watchdog = app.get(WatchdogService);
  for (let done = 0; done < seconds; done += step) {
    clock.advance(Math.min(step, seconds - done));
    await watchdog.runPass();
  }
}

export async function alerts(db: string, instanceId: number): Promise<string[]> {
  const rows = await query<{ kind: string }>(
    db,
    'SELECT kind FROM dead_mans_switch_alert WHERE instance_id = $1 ORDER BY id',
    [instanceId],
  );
  return rows.map((r) => r.kind);
}
