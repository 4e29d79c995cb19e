/**
 * Once per `vitest run`: the server's build (dist/server.mjs, what `npm start` runs and the tests'
 * server processes start; scripts/build-server.ts), and one database brought up to date with the committed migrations, that every
 * harness copies instead of migrating its own (a file copy on SQLite, CREATE DATABASE … TEMPLATE on
 * PostgreSQL). Migrating took a noticeable share of each file's start; copying takes milliseconds.
 * test/db/migrations.test.ts still migrates a fresh, empty database of its own.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildServer } from '../scripts/build-server.ts';
import { openDatabase } from '../server/db/orm.ts';
import { createScratchPostgres } from './postgres.ts';

export interface DatabaseTemplate {
  /** A migrated SQLite file to copy, or the name of a migrated PostgreSQL database to copy. */
  sqlitePath?: string;
  postgresDatabase?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseTemplate: DatabaseTemplate;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await buildServer();
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const scratch = await createScratchPostgres(serverUrl, { prefix: 'promptgate_template_' });
    const orm = await openDatabase({ dialect: 'postgresql', url: scratch.url });
    // A template may have no open connection while it is copied.
    await orm.close(true);
    project.provide('databaseTemplate', { postgresDatabase: scratch.name });
    return () => scratch.drop();
  }
  const path = join(tmpdir(), `promptgate-template-${randomBytes(6).toString('hex')}.sqlite`);
  const orm = await openDatabase({ dialect: 'sqlite', path });
  // Closing checkpoints the WAL into the file, so the file alone is the whole database.
  await orm.close(true);
  project.provide('databaseTemplate', { sqlitePath: path });
  return async () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  };
}
