/**
 * Writes a new migration for each store from the difference between the entities and the schema
 * the existing migrations build. Usage: npm run db:migration -- <name>
 * Needs the PostgreSQL at TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) to diff against.
 */
import { MikroORM } from '@mikro-orm/core';
import { ormOptions } from '../server/db/mikro-orm.config.ts';
import { createScratchPostgres } from '../test/postgres.ts';
import { writeMigrationIndex } from './write-migration-index.ts';

const name = process.argv[2];
if (!name) {
  console.error('usage: npm run db:migration -- <name>');
  process.exit(1);
}

async function generate(label: string, options: ReturnType<typeof ormOptions>): Promise<void> {
  const orm = await MikroORM.init(options);
  try {
    const migrator = orm.getMigrator();
    await migrator.up();
    const result = await migrator.createMigration(undefined, false, false, name);
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
writeMigrationIndex('sqlite');
writeMigrationIndex('postgresql');
