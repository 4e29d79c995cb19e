import { MikroORM } from '@mikro-orm/core';
import type { Knex } from '@mikro-orm/knex';
import type { DatabaseConfig } from '../config.ts';
import { ormOptions } from './mikro-orm.config.ts';

export type Orm = MikroORM;

/**
 * The PostgreSQL advisory lock that replicas take around the migrator: a fixed 64-bit number
 * ("PrmptGat" in ASCII), so no other application sharing the server takes it by chance.
 */
export const MIGRATION_LOCK_KEY = '5796650307216744820';

/** Connects to the store and brings its schema up to date with the committed migrations. */
export async function openDatabase(database: DatabaseConfig): Promise<Orm> {
  const orm = await MikroORM.init(ormOptions(database));
  try {
    await migrate(orm, database);
  } catch (error) {
    await orm.close(true);
    throw error;
  }
  return orm;
}

/**
 * Applies the migrations not yet applied. On PostgreSQL, replicas starting together would each
 * create the same tables at once and all but one fail (a duplicate key in pg_type): one at a time,
 * each waits for the lock, and finds nothing left to do once the first has migrated. The lock is
 * held on a connection of its own, outside the migrator's transaction, and ends with the session
 * if the process dies. SQLite is one file opened by one process: no lock needed.
 */
async function migrate(orm: Orm, database: DatabaseConfig): Promise<void> {
  if (database.dialect !== 'postgresql') {
    await orm.getMigrator().up();
    return;
  }
  const knex = (orm.em.getConnection() as unknown as { getKnex(): Knex }).getKnex();
  const connection = (await knex.client.acquireConnection()) as { query(sql: string, values?: unknown[]): Promise<unknown> };
  try {
    await connection.query('select pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await orm.getMigrator().up();
    } finally {
      await connection.query('select pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await knex.client.releaseConnection(connection);
  }
}
