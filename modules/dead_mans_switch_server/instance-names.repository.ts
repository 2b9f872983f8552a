import type { EntityManager } from 'typeorm';

// Thread definitions are plain objects the chatter calls with its transaction's manager, so these reads are
// functions over that manager rather than methods of an injected class.

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

export async function partnerName(value: unknown, manager: EntityManager): Promise<string | null> {
  const rows = await manager.query<{ name: string }[]>('SELECT name FROM partner WHERE id = $1', [value]);
  return rows[0]?.name ?? String(value);
}
