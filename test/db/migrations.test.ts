import { DatabaseSchema, type AbstractSqlConnection, type AbstractSqlPlatform } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresqlMigrations } from '../../server/db/migrations/postgresql/index.ts';
import { sqliteMigrations } from '../../server/db/migrations/sqlite/index.ts';
import { startHarness, type Harness } from '../harness.ts';

let h: Harness;

beforeAll(async () => {
  // An empty database, every committed migration run on it here (not the run's migrated copy).
  h = await startHarness({ emptyDatabase: true });
});
afterAll(() => h.close());

/** The quoted string literals of an SQL list such as `'A', 'B', 'it''s'`. */
function sqlStringLiterals(list: string): string[] {
  return [...list.matchAll(/'((?:[^']|'')*)'/g)].map((match) => match[1]!.replace(/''/g, "'"));
}

/**
 * The database's schema as MikroORM introspects it, with one correction on SQLite: MikroORM 6.6.16
 * reads the `check (col in (...))` of an enum column with three or more values wrongly (it keeps
 * only the first and the last; mikro-orm/mikro-orm#8139), which makes every diff propose a
 * rebuild of `memberships`. The enum values are read here from the table's own SQL instead.
 */
async function introspectedSchema(harness: Harness): Promise<DatabaseSchema> {
  const connection = harness.orm.em.getConnection() as unknown as AbstractSqlConnection;
  const platform = harness.orm.em.getPlatform() as AbstractSqlPlatform;
  const schema = await DatabaseSchema.create(connection, platform, harness.orm.config as never);
  if (harness.dialect !== 'sqlite') return schema;
  for (const table of schema.getTables()) {
    const [row] = await connection.execute<{ sql: string }[]>(`select sql from sqlite_master where type = 'table' and name = ?`, [table.name]);
    for (const column of table.getColumns()) {
      if (!column.enumItems?.length) continue;
      const check = new RegExp(`[\`"]${column.name}[\`"] text check \\([\`"]${column.name}[\`"] in \\(((?:'(?:[^']|'')*'\\s*,?\\s*)+)\\)\\)`, 'i').exec(row!.sql);
      expect(check, `the check constraint of ${table.name}.${column.name}`).not.toBeNull();
      column.enumItems = sqlStringLiterals(check![1]!);
    }
  }
  return schema;
}

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
