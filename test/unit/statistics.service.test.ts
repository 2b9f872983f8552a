import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModuleRef } from '@nestjs/core';
import type { StatisticsProvider } from '../../src/addons/manifest.js';
import { StatisticsService } from '../../src/statistics/statistics.service.js';

class Disk implements StatisticsProvider {
  collect() {
    return Promise.resolve({ disk_free: 10 });
  }
}
class Broken implements StatisticsProvider {
  collect(): Promise<Record<string, number>> {
    return Promise.reject(new Error('no storage configured'));
  }
}
class Backup implements StatisticsProvider {
  collect() {
    return Promise.resolve({ last_backup_at: '2025-03-03T10:00:00.000Z' });
  }
}

describe('StatisticsService (unit)', () => {
  it("merges every provider's statistics and leaves out a provider that fails", async () => {
    const instances = new Map<unknown, StatisticsProvider>([
      [Disk, new Disk()],
      [Broken, new Broken()],
      [Backup, new Backup()],
    ]);
    const moduleRef = { get: (type: unknown) => instances.get(type) } as unknown as ModuleRef;
    const service = new StatisticsService([Disk, Broken, Backup], moduleRef);
    assert.deepEqual(await service.collect(), { disk_free: 10, last_backup_at: '2025-03-03T10:00:00.000Z' });
  });
});
