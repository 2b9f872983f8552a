import type { EntityManager } from 'typeorm';
import type { ThreadDefinition } from '../mail/chatter/thread.js';
import { Partner } from './partner.entity.js';

async function userName(value: unknown, manager: EntityManager): Promise<string | null> {
  const rows = await manager.query<{ name: string }[]>(
    'SELECT p.name FROM users u JOIN partner p ON p.id = u.partner_id WHERE u.id = $1',
    [value],
  );
  return rows[0]?.name ?? String(value);
}

/** Partners are threads; a change of account manager is tracked and subscribes the new one. */
export const PARTNER_THREAD: ThreadDefinition = {
  model: 'partner',
  entity: Partner,
  displayName: async (id, manager) =>
    (await manager.getRepository(Partner).findOneBy({ id }))?.name ?? `#${id}`,
  tracked: [{ field: 'userId', label: 'core.fields.partner.user_id', format: userName }],
  responsibleField: 'userId',
};
