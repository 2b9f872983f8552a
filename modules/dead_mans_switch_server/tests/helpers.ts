import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestApp } from '../../../test/harness/app.js';
import { query } from '../../../test/harness/database.js';
import type { Api, HttpResult } from '../../../test/harness/http.js';
import type { ManualClock } from '../../../src/index.js';
import { WatchdogService } from '../watchdog/watchdog.service.js';

/** POSTs a raw body to the alive endpoint, as a client would (JSON content type unless told otherwise). */
export function postAlive(
  app: TestApp,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  return postInstanceEndpoint(app, 'alive', body, headers);
}

/** POSTs a raw body to one of the endpoints instances call (`alive`, `cancel`, `event`, `start`). */
export async function postInstanceEndpoint(
  app: TestApp,
  endpoint: 'alive' | 'cancel' | 'event' | 'start',
  body: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const response = await fetch(`${app.url}/dead_mans_switch/${endpoint}`, {
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

export async function instanceByUuid(db: string, uuid: string): Promise<Record<string, any>> {
  const [row] = await query<Record<string, any>>(
    db,
    'SELECT * FROM dead_mans_switch_instance WHERE database_uuid = $1',
    [uuid],
  );
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

/**
 * The alerts of an instance as its chatter shows them (down, reminder, up), oldest first. Also checks that the
 * watchdog's audit trail names exactly these messages.
 */
export async function alerts(db: string, instanceId: number): Promise<string[]> {
  const messages = await query<{ id: number; subtype: string; key: string }>(
    db,
    // An alert that lists suppressed dependents wraps the alert's own text (`alerts.with_suppressed*`).
    `SELECT m.id, s.key AS subtype,
            CASE WHEN m.body->>'key' LIKE '%.with_suppressed%' THEN m.body->'args'->'text'->>'key'
                 ELSE m.body->>'key' END AS key
     FROM mail_message m JOIN mail_subtype s ON s.id = m.subtype_id
     WHERE m.model = 'dead_mans_switch.instance' AND m.res_id = $1
       AND s.key IN ('dead_mans_switch.mt_instance_down', 'dead_mans_switch.mt_instance_up')
     ORDER BY m.id`,
    [instanceId],
  );
  const trail = await query<{ message_id: number }>(
    db,
    'SELECT message_id FROM dead_mans_switch_alert WHERE instance_id = $1 ORDER BY id',
    [instanceId],
  );
  if (JSON.stringify(trail.map((t) => t.message_id)) !== JSON.stringify(messages.map((m) => m.id)))
    throw new Error(`The alert trail of instance ${instanceId} does not match its chatter`);
  return messages.map((m) => /\.(down|reminder|up)_body(?:_\w+)?$/.exec(m.key)?.[1] ?? m.key);
}

/**
 * Registers an instance by a check-in, then activates it through the API with `delay` seconds (default a minute,
 * the API's floor) and, when given, a customer.
 */
export async function activeInstance(
  app: TestApp,
  admin: Api,
  { delay = 60, partnerId }: { delay?: number; partnerId?: number } = {},
): Promise<{ id: number; uuid: string }> {
  const uuid = newUuid();
  assert.equal(
    (await postAlive(app, jsonRpc({ database_uuid: uuid, cpu: 1, ram: 2, user_count: 1 }))).status,
    200,
  );
  const { id } = (await instanceByUuid(app.vigil.databaseUrl, uuid)) as { id: number };
  const patch = { alive_max_delay: delay, ...(partnerId ? { partner_id: partnerId } : {}) };
  const patched = await admin.patch(`/api/v1/dead_mans_switch/instances/${id}`, patch);
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.equal((await admin.post(`/api/v1/dead_mans_switch/instances/${id}/activate`)).status, 200);
  return { id, uuid };
}
