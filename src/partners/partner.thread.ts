import type { ThreadDefinition } from '../mail/chatter/thread.js';
import { Partner } from './partner.entity.js';
import { partnerDisplayName } from './partners.repository.js';

/** Partners are threads; a change of account manager is tracked and subscribes the new one. */
export const PARTNER_THREAD: ThreadDefinition = {
  model: 'partner',
  entity: Partner,
  displayName: partnerDisplayName,
  tracked: [{ field: 'userId', label: 'core.fields.partner.user_id', format: 'user' }],
  responsibleField: 'userId',
};
