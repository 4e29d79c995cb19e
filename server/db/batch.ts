import type { EntityManager, EntitySchema, FilterQuery, FindOptions } from '@mikro-orm/core';
import { preparedDb, type Statement } from './prepared.ts';
import { readOnlyEntities } from './read-only.ts';

/**
 * Helpers for the modules' batch loaders (modules/<domain>/<domain>.loaders.ts): one statement
 * for all the ids a request asks in the same tick, answered in the order they were asked.
 */

/** The rows with these ids, in the order of `ids`; null where none is found. */
export async function loadByIds<T extends { id: string }>(
  em: EntityManager,
  entity: EntitySchema<T>,
  ids: readonly string[],
  options: { where?: FilterQuery<T>; filters?: false } = {},
): Promise<(T | null)[]> {
  const where = { id: { $in: [...ids] }, ...(options.where as object) } as unknown as FilterQuery<T>;
  const rows = (await em.find(entity, where, options.filters === false ? ({ filters: false } as FindOptions<T>) : {})) as T[];
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => found.get(id) ?? null);
}

/**
 * loadByIds for a loader whose batches mostly hold one id (a request naming one prompt): that id
 * is read by `byId`, a statement prepared once, and mapped to a managed entity, or, for a request
 * that only reads (graphql/reads-only.ts), to a read-only object; a batch of several goes through
 * the ORM. `byId` must select the same rows the ORM's read would (its filters too).
 */
export async function loadByIdsPrepared<T extends { id: string }>(
  em: EntityManager,
  entity: EntitySchema<T>,
  byId: Statement,
  ids: readonly string[],
  { readOnly = false }: { readOnly?: boolean } = {},
): Promise<(T | null)[]> {
  if (ids.length !== 1) return loadByIds(em, entity, ids);
  const row = await (await preparedDb(em)).get(byId, [ids[0]]);
  if (!row) return [null];
  return [readOnly ? readOnlyEntities(em, entity, [row])[0]! : (em.map(entity, row as never) as T)];
}

/** Rows grouped by a key, each group in the rows' order. */
export function groupBy<T, V = T>(rows: readonly T[], key: (row: T) => string, value: (row: T) => V = (row) => row as unknown as V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(value(row));
    else groups.set(key(row), [value(row)]);
  }
  return groups;
}
