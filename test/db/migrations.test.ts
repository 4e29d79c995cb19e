import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresqlMigrations } from '../../server/db/migrations/postgresql/index.ts';
import { sqliteMigrations } from '../../server/db/migrations/sqlite/index.ts';
import { introspectedSchema as correctedSchema } from '../../scripts/schema-diff.ts';
import { startHarness, type Harness } from '../harness.ts';

let h: Harness;

/**
 * The database's schema as MikroORM introspects it, with its misreading of SQLite enum checks
 * corrected (mikro-orm/mikro-orm#8139; see scripts/schema-diff.ts, which npm run db:migration uses too).
 */
const introspectedSchema = (harness: Harness) => correctedSchema(harness.orm, harness.dialect);

beforeAll(async () => {
  // An empty database, every committed migration run on it here (not the run's migrated copy).
  h = await startHarness({ emptyDatabase: true });
});
afterAll(() => h.close());

describe(`committed migrations on a fresh database (${process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`, () => {
  it('runs on the store TEST_DATABASE_URL asks for', () => {
    expect(h.dialect).toBe(process.env.TEST_DATABASE_URL ? 'postgresql' : 'sqlite');
  });

  it('has applied every committed migration, in order, and has none pending', async () => {
    const committed = (h.dialect === 'sqlite' ? sqliteMigrations : postgresqlMigrations).map((migration) => migration.name);
    expect(committed.length).toBeGreaterThan(0);
    const migrator = h.orm.getMigrator();
    expect((await migrator.getExecutedMigrations()).map((migration) => migration.name)).toEqual(committed);
    expect(await migrator.getPendingMigrations()).toEqual([]);
  });

  it('commits the same migrations for both stores', () => {
    expect(sqliteMigrations.map((migration) => migration.name)).toEqual(postgresqlMigrations.map((migration) => migration.name));
  });

  it('leaves no difference between the entities and the schema', async () => {
    const generator = h.orm.getSchemaGenerator();
    const fromSchema = await introspectedSchema(h);
    expect(await generator.getUpdateSchemaSQL({ wrap: false, fromSchema })).toBe('');
    const migration = await generator.getUpdateSchemaMigrationSQL({ wrap: false, fromSchema });
    expect(migration.up).toBe('');
    expect(migration.down).toBe('');
  });

  it.runIf(process.env.TEST_DATABASE_URL)('leaves no difference by MikroORM’s own introspection (PostgreSQL)', async () => {
    expect(await h.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).toBe('');
  });

  it('keeps the enum check of memberships.role with every role, as the entity declares', async () => {
    const table = (await introspectedSchema(h)).getTable('memberships');
    expect(table?.getColumn('role')?.enumItems).toEqual(['OWNER', 'ADMIN', 'MEMBER']);
  });

  it('notices a schema that differs from the entities (the check above can fail)', async () => {
    const own = await startHarness();
    try {
      await own.orm.em.fork().getConnection().execute('drop index prompts_organization_id_name_id_index');
      const diff = await own.orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false, fromSchema: await introspectedSchema(own) });
      expect(diff).toMatch(/create index [`"]prompts_organization_id_name_id_index[`"]/);
    } finally {
      await own.close();
    }
  });
});
