import type { EntityManager, EntityMetadata, EntityName } from '@mikro-orm/core';

/**
 * An entity's values keyed by their columns, in the order of `columns`: what a prepared insert
 * binds (run-record.ts). The column of each property comes from the ORM's metadata, and the list
 * must name every column the entity persists: a property the entity gains and the statement lacks
 * is an error at the first write, not a value silently left out. Absent values are null.
 */
export function entityRow<T extends object, C extends string>(em: EntityManager, entity: EntityName<T>, columns: readonly C[], object: T): Record<C, unknown> {
  const meta = em.getMetadata().get<T>(entity);
  let properties = propertiesByColumns.get(meta)?.get(columns);
  if (!properties) {
    properties = propertiesOf(meta, columns);
    const byList = propertiesByColumns.get(meta) ?? new Map<readonly string[], string[]>();
    byList.set(columns, properties);
    propertiesByColumns.set(meta, byList);
  }
  const row = {} as Record<C, unknown>;
  const values = object as Record<string, unknown>;
  for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[properties[i]!] ?? null;
  return row;
}

/** Per entity, per column list (each a module-level constant): the property of each column. */
const propertiesByColumns = new WeakMap<object, Map<readonly string[], string[]>>();

function propertiesOf(meta: EntityMetadata, columns: readonly string[]): string[] {
  const byColumn = new Map<string, string>();
  for (const prop of meta.props) {
    // Columns of this table: scalars and the owning side of a reference.
    if (prop.persist === false || !['scalar', 'm:1', '1:1'].includes(prop.kind) || (prop.kind === '1:1' && !prop.owner)) continue;
    byColumn.set(prop.fieldNames[0]!, prop.name);
  }
  const unknown = columns.filter((column) => !byColumn.has(column));
  const missing = [...byColumn.keys()].filter((column) => !columns.includes(column));
  if (unknown.length || missing.length) {
    throw new Error(`the columns given for ${meta.tableName} do not match its entity: unknown ${unknown.join(', ') || 'none'}; missing ${missing.join(', ') || 'none'}`);
  }
  return columns.map((column) => byColumn.get(column)!);
}
