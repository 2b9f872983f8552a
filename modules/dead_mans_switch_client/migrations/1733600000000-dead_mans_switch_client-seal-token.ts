import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SecretBox, type MigrationContext } from '../../../src/index.js';

const KEY = 'dead_mans_switch_client.token';

/**
 * The check-in token became a secret setting: a value stored in clear is sealed with the `setting-secrets` key
 * derived from the server secret (a sealed value starts with `v1:`; the empty value, none, stays empty).
 */
export class DeadMansSwitchClientSealToken1733600000000 implements MigrationInterface {
  constructor(private readonly context: MigrationContext) {}

  async up(db: QueryRunner): Promise<void> {
    const rows = (await db.query('SELECT value FROM setting WHERE key = $1', [KEY])) as { value: string }[];
    const clear = rows[0]?.value;
    if (!clear || SecretBox.isSealed(clear)) return;
    const box = (await this.context.secretKeys()).box('setting-secrets');
    await db.query('UPDATE setting SET value = $2 WHERE key = $1', [KEY, box.seal(clear.trim())]);
  }

  async down(db: QueryRunner): Promise<void> {
    const rows = (await db.query('SELECT value FROM setting WHERE key = $1', [KEY])) as { value: string }[];
    const sealed = rows[0]?.value;
    if (!sealed || !SecretBox.isSealed(sealed)) return;
    const box = (await this.context.secretKeys()).box('setting-secrets');
    await db.query('UPDATE setting SET value = $2 WHERE key = $1', [KEY, box.open(sealed)]);
  }
}
