import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** What the PostgreSQL server says about itself. */
@Injectable()
export class DatabaseServerRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** The server's version as a number, e.g. 150004 for 15.4. */
  async versionNum(): Promise<number> {
    const rows = await this.db.query<{ server_version_num: string }[]>('SHOW server_version_num');
    return Number(rows[0].server_version_num);
  }
}
