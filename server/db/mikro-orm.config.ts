import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Options } from '@mikro-orm/core';
import { BetterSqliteDriver } from '@mikro-orm/better-sqlite';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import type { DatabaseConfig } from '../config.ts';
import { entities } from './entities.ts';
import { postgresqlMigrations } from './migrations/postgresql/index.ts';
import { sqliteMigrations } from './migrations/sqlite/index.ts';

/**
 * ORM options for either store. Migrations are listed statically (not discovered from disk) so
 * they load the same way under tsx, vitest and the CLI scripts.
 */
export function ormOptions(database: DatabaseConfig): Options {
  const common = {
    entities,
    extensions: [Migrator],
    // Nothing may use the global EntityManager: each request forks its own (server/context.ts).
    allowGlobalContext: false,
    forceUtcTimezone: true,
    // The live-row filter of prompts and flows applies to the rows a query asks for, never to the
    // references other rows hold: a run keeps pointing at the prompt it ran after it is deleted.
    autoJoinRefsForFilters: false,
    // Ids and timestamps (db/base.entity.ts) are made by em.create, not at the flush: a service
    // names a new entity's id (in an audit row, a grant) before anything is written.
    processOnCreateHooksEarly: true,
    debug: false,
  } satisfies Options;

  if (database.dialect === 'sqlite') {
    if (database.path !== ':memory:') mkdirSync(dirname(database.path), { recursive: true });
    return {
      ...common,
      driver: BetterSqliteDriver,
      dbName: database.path,
      migrations: {
        migrationsList: sqliteMigrations,
        path: 'server/db/migrations/sqlite',
        emit: 'ts',
        snapshot: false,
        silent: true,
      },
      pool: {
        // WAL lets readers go on while a write commits; a busy timeout makes a concurrent writer
        // wait its turn instead of failing with SQLITE_BUSY.
        afterCreate: (connection: { pragma(sql: string): unknown }, done: (error: Error | null, connection: unknown) => void) => {
          connection.pragma('journal_mode = WAL');
          connection.pragma('busy_timeout = 5000');
          connection.pragma('foreign_keys = ON');
          done(null, connection);
        },
      },
    } as Options;
  }
  return {
    ...common,
    driver: PostgreSqlDriver,
    clientUrl: database.url,
    migrations: {
      migrationsList: postgresqlMigrations,
      path: 'server/db/migrations/postgresql',
      emit: 'ts',
      snapshot: false,
      silent: true,
    },
  } as Options;
}
