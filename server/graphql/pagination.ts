import type { EntityManager, EntitySchema, FilterQuery, QueryOrderMap } from '@mikro-orm/core';
import type { ObjectRef } from '@pothos/core';
import { builder, type BuilderTypes } from '../builder.ts';
import { badInput } from '../errors.ts';
import { typeOfId, type IdType } from '../ids.ts';
// The page sizes live with the query cost, which counts a page by them (builder.ts imports that module).
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './query-cost.ts';

/**
 * Relay connections by keyset. The relay plugin declares the Connection, Edge and PageInfo types
 * (`connectionType`); this module pages: a cursor holds the sort values of a row, so a page costs
 * the same wherever it is. DESIGN.md rule 10: 20 items unless asked, never more than 100 at once.
 */

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** The shape the relay plugin's connection types resolve from (`nodes` is read from the edges). */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

/**
 * How a list is ordered: its sort columns, each with what it holds, the last one the row's id
 * (unique, so the order is total). A cursor is checked against this before it reaches a query.
 */
export interface ListOrder {
  columns: readonly { name: string; direction: 'asc' | 'desc'; kind: 'string' | 'date' }[];
  /** The type of the ids in the list: a cursor whose id is of another type is another list's. */
  idType: IdType;
}

/** Name, then id: prompts, flows, keys. */
export function byName(idType: IdType): ListOrder {
  return { idType, columns: [{ name: 'name', direction: 'asc', kind: 'string' }] };
}

/** Newest first by a timestamp, then id: runs, audit events. */
export function newestFirst(idType: IdType, column: string): ListOrder {
  return { idType, columns: [{ name: column, direction: 'desc', kind: 'date' }] };
}

/** Checks `first`; returns the page size. */
export function pageSize(args: PageArgs): number {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `must be between 0 and ${MAX_PAGE_SIZE} (it defaults to ${DEFAULT_PAGE_SIZE})`);
  }
  return first;
}

/** The cursor of a row: base64url of the JSON array of its sort values and id, dates as ISO text. */
function encodeCursor(order: ListOrder, row: Record<string, unknown> & { id: string }): string {
  const values = order.columns.map(({ name }) => {
    const value = row[name];
    return value instanceof Date ? value.toISOString() : value;
  });
  return Buffer.from(JSON.stringify([...values, row.id])).toString('base64url');
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The sort values and id an `after` cursor holds, typed by the list's own order, or BAD_USER_INPUT
 * for anything this list did not hand out: not base64url JSON, the wrong number of values, a
 * value of the wrong kind (an object that would smuggle query operators into the keyset
 * condition), or an id of another type (a cursor of another list). Text stays text whatever it
 * looks like: a prompt named like a timestamp is still a name.
 */
export function decodeCursor(after: string | null | undefined, order: ListOrder): { values: (string | Date)[]; id: string } | undefined {
  if (after == null) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const refuse = () => badInput('after', 'is not a cursor from this list; pass a pageInfo.endCursor or edges.cursor you were given');
  if (!Array.isArray(decoded) || decoded.length !== order.columns.length + 1) throw refuse();
  const id = decoded.at(-1);
  if (typeof id !== 'string' || typeOfId(id) !== order.idType) throw refuse();
  const values = order.columns.map(({ kind }, i) => {
    const value: unknown = decoded[i];
    if (typeof value !== 'string') throw refuse();
    if (kind === 'string') return value;
    const date = new Date(value);
    if (!ISO_INSTANT.test(value) || Number.isNaN(date.getTime())) throw refuse();
    return date;
  });
  return { values, id };
}

/** Rows strictly after the cursor in the list's order: (a > x) or (a = x and id > y), per direction. */
function afterCondition(order: ListOrder, after: { values: (string | Date)[]; id: string }): Record<string, unknown> {
  const columns = [...order.columns, { name: 'id', direction: order.columns.at(-1)!.direction }];
  const values = [...after.values, after.id];
  return {
    $or: columns.map((column, i) => {
      const condition: Record<string, unknown> = {};
      for (let j = 0; j < i; j++) condition[columns[j]!.name] = values[j];
      condition[column.name] = { [column.direction === 'asc' ? '$gt' : '$lt']: values[i] };
      return condition;
    }),
  };
}

/** An edge whose cursor is encoded when read: a page asked for its nodes alone encodes none. */
class Edge<T extends { id: string }> {
  #cursor: string | undefined;
  constructor(
    private readonly order: ListOrder,
    readonly node: T,
  ) {}

  get cursor(): string {
    return (this.#cursor ??= encodeCursor(this.order, this.node as T & Record<string, unknown>));
  }
}

/**
 * A page of already fetched rows: `rows` holds at most one more than `first`, which tells whether
 * there is a next page. Cursors are encoded only when a field reads them.
 */
export function pageOf<T extends { id: string }>(order: ListOrder, rows: T[], first: number, args: PageArgs, totalCount: number): Page<T> {
  const edges = rows.slice(0, first).map((node) => new Edge(order, node));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: args.after != null,
      get startCursor() {
        return edges[0]?.cursor ?? null;
      },
      get endCursor() {
        return edges.at(-1)?.cursor ?? null;
      },
    },
    totalCount,
  };
}

/**
 * One page of an entity list in `order`, after the cursor if any, with the total count. `filter`
 * narrows both (a search, server/graphql/search.ts); a function, called once per query.
 */
export async function paginate<T extends { id: string }>(
  em: EntityManager,
  entity: EntitySchema<T>,
  where: FilterQuery<T>,
  order: ListOrder,
  args: PageArgs,
  filter?: () => FilterQuery<T>,
): Promise<Page<T>> {
  const first = pageSize(args);
  const after = decodeCursor(args.after, order);
  const orderBy = Object.fromEntries([...order.columns.map((c) => [c.name, c.direction]), ['id', order.columns.at(-1)!.direction]]);
  const narrowed = () => (filter ? ({ $and: [where, filter()] } as FilterQuery<T>) : where);
  const rows = await em.find(entity, (after ? { $and: [narrowed(), afterCondition(order, after)] } : narrowed()) as FilterQuery<T>, {
    orderBy: orderBy as QueryOrderMap<T>,
    limit: first + 1,
  });
  const totalCount = await em.count(entity, narrowed());
  return pageOf(order, rows as T[], first, args, totalCount);
}

/** `<Name>Connection` and `<Name>Edge` for a node type, made by the relay plugin. */
export function connectionType<T, P>(name: string, nodeRef: ObjectRef<BuilderTypes, T, P>) {
  return builder.connectionObject({ type: nodeRef, name: `${name}Connection` }, { name: `${name}Edge` });
}

// Every connection counts its whole list, whatever page it answers.
builder.globalConnectionField('totalCount', (t) => t.exposeInt('totalCount'));

/**
 * The `first` and `after` arguments every list field takes. (The plugin's `t.connection` would
 * add `last` and `before` too; lists here page forward only.)
 */
export const pageArgs = builder.args((t) => ({
  first: t.int({ description: `How many to return: ${DEFAULT_PAGE_SIZE} unless given, at most ${MAX_PAGE_SIZE}.` }),
  after: t.string({ description: 'Return the items after this cursor (pageInfo.endCursor of the previous page).' }),
}));
