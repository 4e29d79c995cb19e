/**
 * Writes a new migration for each store from the difference between the entities and the schema
 * the existing migrations build. Usage: npm run db:migration -- <name>
 * Needs the PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) to diff against.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { MikroORM } from '@mikro-orm/core';
import { ormOptions } from '../server/db/mikro-orm.config.ts';
import { createScratchPostgres } from '../test/postgres.ts';
import { writeMigrationIndex } from './write-migration-index.ts';

const name = process.argv[2];
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(1);
}

/** The file each store's migration was written to, so both can share one name. */
const written: Record<string, string | undefined> = {};

async function generate(label: string, options: ReturnType<typeof ormOptions>): Promise<void> {
  const orm = await MikroORM.init(options);
  try {
    const migrator = orm.getMigrator();
    await migrator.up();
    const result = await migrator.createMigration(undefined, false, false, name);
    written[label] = result.fileName || undefined;
    console.log(result.fileName ? `${label}: wrote ${result.fileName} ` : `${label}: no changes`);
  } finally {
    await orm.close(true);
  }
}

await generate('sqlite', ormOptions({ dialect: 'sqlite', path: ':memory:' }));
const scratch = await createScratchPostgres(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
try {
  await generate('postgresql', ormOptions({ dialect: 'postgresql', url: scratch.url }));
} finally {
  await scratch.drop();
}
// The two stores' migrations of one change carry the same name (the generator stamps each with
// its own second).
if (written.sqlite && written.postgresql && written.sqlite !== written.postgresql) {
  const from = `server/db/migrations/postgresql/${written.postgresql}`;
  const to = `server/db/migrations/postgresql/${written.sqlite}`;
  const oldClass = written.postgresql.replace(/\.ts$/, '');
  const newClass = written.sqlite.replace(/\.ts$/, '');
  writeFileSync(to, readFileSync(from, 'utf8').replace(oldClass, newClass));
  unlinkSync(from);
}
writeMigrationIndex('sqlite');
writeMigrationIndex('postgresql');
console.log(
  'Read the SQLite migration before committing: MikroORM 6.6.16 misreads check constraints of enums with three or more values\n' +
    'and may add needless rebuilds of such tables ("__temp_alter" blocks); delete those blocks.',
);
