import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADMIN, startTestApp } from '../../../test/harness/app.js';
import { dropDatabase, emptyDatabase, query } from '../../../test/harness/database.js';
import { Api } from '../../../test/harness/http.js';
import { migrateAddon } from '../../../test/harness/migrations.js';
import { manifest as serverManifest } from '../../dead_mans_switch_server/manifest.js';
import { manifest } from '../manifest.js';

const MIGRATIONS = manifest.migrations.map((migration) => migration.name);

describe('dead_mans_switch_probes: its own addon', () => {
  it('upgrades a database migrated while the probes were part of the server: nothing runs twice, no probe is lost', async () => {
    const db = await emptyDatabase();
    try {
      // As before the move: the probes' migrations ran among the server's, and were recorded under its name.
      await migrateAddon(db, serverManifest.name, [...serverManifest.migrations, ...manifest.migrations]);
      const recorded = () =>
        query<{ addon: string; name: string; executed_at: Date }>(
          db,
          'SELECT addon, name, executed_at FROM migration WHERE name = ANY($1) ORDER BY name',
          [MIGRATIONS],
        );
      const before = await recorded();
      assert.deepEqual(
        before.map((row) => row.addon),
        MIGRATIONS.map(() => serverManifest.name),
      );
      const [{ id: instanceId }] = await query<{ id: number }>(
        db,
        `INSERT INTO dead_mans_switch_instance (database_uuid, state) VALUES (gen_random_uuid(), 'active') RETURNING id`,
      );
      const [{ id: probeId }] = await query<{ id: number }>(
        db,
        `INSERT INTO dead_mans_switch_probe (instance_id, name, kind, target, next_run_at, created_at, updated_at)
         VALUES ($1, 'erp port', 'tcp', '{"host": "erp.example.com", "port": 8069}', now(), now(), now())
         RETURNING id`,
        [instanceId],
      );

      // Start-up with the addons split: the probes' migrations (which create their tables, and would fail on
      // tables that exist) do not run again; their records move to the addon that declares them now.
      const app = await startTestApp({ databaseUrl: db });
      try {
        const after = await recorded();
        assert.deepEqual(
          after.map((row) => [row.addon, row.name, row.executed_at.toISOString()]),
          before.map((row) => [manifest.name, row.name, row.executed_at.toISOString()]),
        );
        const admin = await new Api(app.url).login(ADMIN.email, ADMIN.password);
        const probe = await admin.get(`/api/v1/dead_mans_switch/probes/${probeId}`);
        assert.equal(probe.status, 200, JSON.stringify(probe.body));
        assert.equal(probe.body.name, 'erp port');
        const instance = await admin.get(`/api/v1/dead_mans_switch/instances/${instanceId}`);
        assert.deepEqual(instance.body.probes, { total: 1, up: 0, down: 0 });
      } finally {
        await app.close();
      }
    } finally {
      await dropDatabase(db);
    }
  });

  it('creates the probe tables on a new database, after the server’s', async () => {
    const db = await emptyDatabase();
    try {
      const app = await startTestApp({ databaseUrl: db });
      await app.close();
      const rows = await query<{ addon: string; name: string }>(
        db,
        'SELECT addon, name FROM migration WHERE name = ANY($1) ORDER BY name',
        [MIGRATIONS],
      );
      assert.deepEqual(
        rows,
        [...MIGRATIONS].sort().map((name) => ({ addon: manifest.name, name })),
      );
      const tables = await query<{ name: string }>(
        db,
        `SELECT tablename AS name FROM pg_tables WHERE tablename LIKE 'dead_mans_switch_probe%' ORDER BY 1`,
      );
      assert.deepEqual(
        tables.map((t) => t.name),
        ['dead_mans_switch_probe', 'dead_mans_switch_probe_result'],
      );
    } finally {
      await dropDatabase(db);
    }
  });
});
