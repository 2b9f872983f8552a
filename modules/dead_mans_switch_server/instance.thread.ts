import type { EntityManager } from 'typeorm';
import type { ThreadDefinition } from '../../src/index.js';
import { Instance } from './instance.entity.js';
import { INSTANCE_MODEL } from './settings.js';

/** The display name in SQL, over `dead_mans_switch_instance i LEFT JOIN partner p`. */
export const DISPLAY_NAME_SQL = `coalesce(p.name, i.database_uuid::text)
  || CASE WHEN coalesce(i.description, '') <> '' THEN ' (' || i.description || ')' ELSE '' END`;

/** The customer's name or the uuid, plus ` (description)` when there is one. */
export async function instanceDisplayName(id: number, manager: EntityManager): Promise<string> {
  const rows = await manager.query<{ name: string }[]>(
    `SELECT ${DISPLAY_NAME_SQL} AS name
     FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id WHERE i.id = $1`,
    [id],
  );
  return rows[0]?.name ?? `#${id}`;
}

/** Display names of many instances in one query. */
export async function instanceDisplayNames(
  ids: number[],
  manager: EntityManager,
): Promise<Map<number, string>> {
  const rows = await manager.query<{ id: number; name: string }[]>(
    `SELECT i.id, ${DISPLAY_NAME_SQL} AS name
     FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id WHERE i.id = ANY($1)`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, row.name]));
}

async function partnerName(value: unknown, manager: EntityManager): Promise<string | null> {
  const rows = await manager.query<{ name: string }[]>('SELECT name FROM partner WHERE id = $1', [value]);
  return rows[0]?.name ?? String(value);
}

async function userName(value: unknown, manager: EntityManager): Promise<string | null> {
  const rows = await manager.query<{ name: string }[]>(
    'SELECT p.name FROM users u JOIN partner p ON p.id = u.partner_id WHERE u.id = $1',
    [value],
  );
  return rows[0]?.name ?? String(value);
}

/** Instances are threads: state, customer and responsible are tracked; the responsible user follows. */
export const INSTANCE_THREAD: ThreadDefinition = {
  model: INSTANCE_MODEL,
  entity: Instance,
  displayName: instanceDisplayName,
  displayNames: instanceDisplayNames,
  tracked: [
    { field: 'state', label: 'dead_mans_switch_server.fields.state' },
    { field: 'partnerId', label: 'dead_mans_switch_server.fields.partner_id', format: partnerName },
    { field: 'userId', label: 'dead_mans_switch_server.fields.user_id', format: userName },
  ],
  responsibleField: 'userId',
};
