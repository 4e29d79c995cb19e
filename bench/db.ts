import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseConfig } from '../server/config.ts';
import { openDatabase, type Orm } from '../server/db/orm.ts';
import { createScratchPostgres } from '../test/postgres.ts';

export interface BenchDatabase {
  orm: Orm;
  database: DatabaseConfig;
  /** Human-readable: which store, where (never a password). */
  label: string;
  /** Closes the ORM and removes the store (the temporary SQLite file, or the scratch PostgreSQL database). */
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for one benchmark run: a temporary SQLite file by default, or a new
 * PostgreSQL database (promptgate_test_<random>) on the server at `serverUrl`, dropped by close().
 */
export async function openBenchDatabase(serverUrl: string | undefined): Promise<BenchDatabase> {
  let database: DatabaseConfig;
  let remove: () => Promise<void>;
  let label: string;
  if (serverUrl) {
    const scratch = await createScratchPostgres(serverUrl);
    database = { dialect: 'postgresql', url: scratch.url };
    remove = () => scratch.drop();
    const url = new URL(scratch.url);
    label = `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`;
  } else {
    const path = join(tmpdir(), `promptgate-bench-${randomBytes(6).toString('hex')}.sqlite`);
    database = { dialect: 'sqlite', path };
    remove = async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    };
    label = `SQLite ${path}`;
  }
  let orm: Orm;
  try {
    orm = await openDatabase(database);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    orm,
    database,
    label,
    async close() {
      try {
        await orm.close(true);
      } finally {
        await remove();
      }
    },
  };
}
