import type { EntityManager } from 'typeorm';
import type { ThreadDefinition } from '../../src/index.js';
import { Instance } from './instance.entity.js';
import { INSTANCE_MODEL } from './settings.js';

/** What `displayName` reads, as columns over `dead_mans_switch_instance i LEFT JOIN partner p`. */
export const DISPLAY_NAME_COLUMNS = 'p.name AS partner_name, i.database_uuid, i.description';

/**
 * The display name of an instance (the only definition; SQL selects its columns): the customer's name or the
 * uuid, plus ` (description)` when there is one.
 */
export const displayName = (row: {
  partner_name: string | null;
  database_uuid: string;
  description: string | null;
}) => `${row.partner_name ?? row.database_uuid}${row.description ? ` (${row.description})` : ''}`;

type NameRow = { id: number; partner_name: string | null; database_uuid: string; description: string | null };

/** Display names of many instances in one query. */
export async function instanceDisplayNames(
  ids: number[],
  manager: EntityManager,
): Promise<Map<number, string>> {
  const rows = await manager.query<NameRow[]>(
    `SELECT i.id, ${DISPLAY_NAME_COLUMNS}
     FROM dead_mans_switch_instance i LEFT JOIN partner p ON p.id = i.partner_id WHERE i.id = ANY($1)`,
    [ids],
  );
  return new Map(rows.map((row) => [row.id, displayName(row)]));
}

/** The display name of one instance. */
export async function instanceDisplayName(id: number, manager: EntityManager): Promise<string> {
  return (await instanceDisplayNames([id], manager)).get(id) ?? `#${id}`;
}

async function partnerName(value: unknown, manager: EntityManager): Promise<string | null> {
  const rows = await manager.query<{ name: string }[]>('SELECT name FROM partner WHERE id = $1', [value]);
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
    { field: 'userId', label: 'dead_mans_switch_server.fields.user_id', format: 'user' },
  ],
  responsibleField: 'userId',
};
