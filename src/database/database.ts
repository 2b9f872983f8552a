import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';

/**
 * What repositories and services share of the database beyond their own tables: one way to open a transaction,
 * and one way to run a named (prepared) statement on the pool TypeORM owns, through its public API.
 */
@Injectable()
export class Database {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws.
   * Repositories take the `manager` it gives, so that their statements are part of the transaction.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /**
   * Runs one statement with a `name` as a prepared statement of the connection it lands on: parsed and planned
   * once per connection, not once per call. The connection comes from TypeORM's pool through a query runner,
   * whose `connect()` returns the driver's client (`pg.PoolClient`); it goes back to the pool right after.
   */
  async queryNamed<R extends pg.QueryResultRow>(statement: pg.QueryConfig): Promise<R[]> {
    const runner = this.dataSource.createQueryRunner('master');
    try {
      const client = (await runner.connect()) as pg.PoolClient;
      return (await client.query<R>(statement)).rows;
    } finally {
      await runner.release();
    }
  }
}
