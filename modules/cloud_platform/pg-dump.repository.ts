import { execFile } from 'node:child_process';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export type PgDumpOutcome =
  { found: true; output: string } | { found: false; reason: string; timedOut: boolean };

/** Runs `pg_dump --version` and reads the server's major version. */
@Injectable()
export class PgDumpRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  version(signal: AbortSignal): Promise<PgDumpOutcome> {
    return new Promise((resolve) => {
      execFile('pg_dump', ['--version'], { signal, timeout: 4000 }, (error, stdout) => {
        if (!error) return resolve({ found: true, output: stdout.trim() });
        const { code, killed } = error as NodeJS.ErrnoException & { killed?: boolean };
        resolve({
          found: false,
          reason: code === 'ENOENT' ? 'not found on PATH' : error.message,
          timedOut: killed === true || code === 'ABORT_ERR',
        });
      });
    });
  }

  async serverMajor(): Promise<number> {
    const rows = await this.db.query<{ server_version_num: string }[]>('SHOW server_version_num');
    return Math.floor(Number(rows[0].server_version_num) / 10_000);
  }
}
