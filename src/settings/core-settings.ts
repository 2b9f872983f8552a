import { defineSetting } from './setting-definition.js';

/** Generated with the database; changed only by "regenerate" (after cloning a database). */
export const DATABASE_UUID_SETTING = defineSetting.uuid({
  key: 'database.uuid',
  default: '',
  editableBy: 'none',
  description: 'core.settings.descriptions.database_uuid',
});

/** Core's own settings besides the mail area's (src/mail/channels/channel-settings.ts). */
export const CORE_SETTINGS = [DATABASE_UUID_SETTING];
