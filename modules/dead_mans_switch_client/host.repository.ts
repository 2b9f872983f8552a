import { statfs } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface CpuSample {
  /** User + system CPU time of this process, in microseconds. */
  cpuMicros: number;
  /** A monotonic wall-clock reading, in microseconds. */
  wallMicros: number;
}

/** What the check-in measures about this process, its machine and its database. */
@Injectable()
export class HostRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  cpuSample(): CpuSample {
    const usage = process.cpuUsage();
    return { cpuMicros: usage.user + usage.system, wallMicros: Number(process.hrtime.bigint() / 1000n) };
  }

  /** Percent of the machine's physical memory held by this process. */
  ramPercent(): number {
    return (process.memoryUsage.rss() / totalmem()) * 100;
  }

  uptimeSeconds(): number {
    return process.uptime();
  }

  async disk(path: string): Promise<{ free: number; total: number }> {
    const stats = await statfs(path);
    return { free: stats.bavail * stats.bsize, total: stats.blocks * stats.bsize };
  }

  /** Bytes used by this backend's database. */
  async databaseSize(): Promise<number> {
    const rows = await this.db.query<{ size: string }[]>(
      'SELECT pg_database_size(current_database())::text AS size',
    );
    return Number(rows[0].size);
  }
}
