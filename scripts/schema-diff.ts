/**
 * The difference between the entities and a migrated database, as MikroORM computes it for a new
 * migration, with one of its misreadings corrected. MikroORM 6.6.16 reads the
 * `check (col in (...))` of a SQLite enum column with three or more values wrongly (it keeps only
 * the first and the last; mikro-orm/mikro-orm#8139), so its own diff proposes rebuilding every
 * table with such a column (memberships, runs, run_steps) even when nothing changed. The enum
 * values are read here from each table's own SQL instead. Used by scripts/create-migration.ts and
 * test/db/migrations.test.ts.
 */
import type { MikroORM } from '@mikro-orm/core';
import { DatabaseSchema, type AbstractSqlConnection, type AbstractSqlPlatform } from '@mikro-orm/knex';
import type { DatabaseConfig } from '../server/config.ts';

/** The quoted string literals of an SQL list such as `'A', 'B', 'it''s'`. */
function sqlStringLiterals(list: string): string[] {
  return [...list.matchAll(/'((?:[^']|'')*)'/g)].map((match) => match[1]!.replace(/''/g, "'"));
}

/** The database's schema as MikroORM introspects it, with the enum values of SQLite corrected. */
export async function introspectedSchema(orm: MikroORM, dialect: DatabaseConfig['dialect']): Promise<DatabaseSchema> {
  const connection = orm.em.getConnection() as unknown as AbstractSqlConnection;
  const platform = orm.em.getPlatform() as AbstractSqlPlatform;
  const schema = await DatabaseSchema.create(connection, platform, orm.config as never);
  if (dialect !== 'sqlite') return schema;
  for (const table of schema.getTables()) {
    const [row] = await connection.execute<{ sql: string }[]>(`select sql from sqlite_master where type = 'table' and name = ?`, [table.name]);
    for (const column of table.getColumns()) {
      if (!column.enumItems?.length) continue;
      const check = new RegExp(`[\`"]${column.name}[\`"] text check \\([\`"]${column.name}[\`"] in \\(((?:'(?:[^']|'')*'\\s*,?\\s*)+)\\)\\)`, 'i').exec(row?.sql ?? '');
      if (!check) throw new Error(`cannot read the enum check constraint of ${table.name}.${column.name} from its SQL`);
      column.enumItems = sqlStringLiterals(check[1]!);
    }
  }
  return schema;
}

/**
 * The statements of a migration from the database's schema to the entities, split as MikroORM's
 * Migrator splits them (one statement per addSql; an empty string keeps a blank line between
 * groups). Both lists are empty when the entities and the schema agree.
 */
export async function schemaDiff(orm: MikroORM, dialect: DatabaseConfig['dialect']): Promise<{ up: string[]; down: string[] }> {
  const options = orm.config.get('migrations');
  const sql = await orm.getSchemaGenerator().getUpdateSchemaMigrationSQL({
    wrap: false,
    safe: options.safe,
    dropTables: options.dropTables,
    fromSchema: await introspectedSchema(orm, dialect),
  });
  return { up: splitStatements(sql.up), down: splitStatements(sql.down) };
}

/** Migrator.getSchemaDiff's splitting in MikroORM 6.6.16 (not exported there). */
function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let buffer = '';
  for (const chunk of sql.split(/;\n/)) {
    buffer += (buffer ? ';\n' : '') + chunk;
    // An odd number of quotes so far: the split fell inside a string literal.
    if (buffer.split(`'`).length % 2 === 0) continue;
    if (buffer.startsWith('\n')) statements.push('');
    const trimmed = buffer.trim();
    if (trimmed) statements.push(trimmed.endsWith(';') ? trimmed : trimmed + ';');
    buffer = '';
  }
  while (statements.length > 0 && !statements[statements.length - 1]) statements.pop();
  return statements;
}
