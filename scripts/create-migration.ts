/**
 * Writes a new migration for each store from the difference between the entities and the schema
 * the existing migrations build, or nothing when they agree. Usage: npm run db:migration -- <name>
 * Needs the PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) to diff against.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { TSMigrationGenerator } from '@mikro-orm/migrations';
import type { AbstractSqlDriver } from '@mikro-orm/knex';
import type { DatabaseConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/orm.ts';
import { createScratchPostgres } from '../test/postgres.ts';
import { schemaDiff } from './schema-diff.ts';
import { writeMigrationIndex } from './write-migration-index.ts';

const name = process.argv[2];
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(1);
}

/** The file each store's migration was written to, so both can share one name. */
const written: Record<string, string | undefined> = {};

/**
 * Writes the store's migration, if the entities differ from the schema its committed migrations
 * build. The diff is MikroORM's with its misreading of SQLite enum checks corrected
 * (scripts/schema-diff.ts): MikroORM's own createMigration would write table rebuilds for it.
 */
async function generate(database: DatabaseConfig): Promise<void> {
  const orm = await openDatabase(database);
  try {
    const diff = await schemaDiff(orm, database.dialect);
    if (diff.up.length === 0) {
      console.log(`${database.dialect}: no changes, nothing written`);
      return;
    }
    const generator = new TSMigrationGenerator(orm.em.getDriver() as AbstractSqlDriver, orm.config.getNamingStrategy(), orm.config.get('migrations'));
    const [, fileName] = await generator.generate(diff, undefined, name);
    written[database.dialect] = fileName;
    console.log(`${database.dialect}: wrote ${fileName}`);
  } finally {
    await orm.close(true);
  }
}

await generate({ dialect: 'sqlite', path: ':memory:' });
const scratch = await createScratchPostgres(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
try {
  await generate({ dialect: 'postgresql', url: scratch.url });
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
if (written.sqlite || written.postgresql) {
  writeMigrationIndex('sqlite');
  writeMigrationIndex('postgresql');
} else {
  console.log('The entities match the committed migrations on both stores: no migration written.');
}
