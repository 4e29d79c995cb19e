import { Cursor, type EntityManager, type EntitySchema, type FilterQuery, type QueryOrderMap } from '@mikro-orm/core';
import type { ObjectRef } from '@pothos/core';
import type { BuilderTypes } from '../builder.ts';
import { builder } from '../builder.ts';
import { badInput } from '../errors.ts';

/** DESIGN.md rule 10: Relay connections, 20 items unless asked, never more than 100 at once. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  nodes: T[];
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

/** Checks `first` and `after`; returns the page size. */
export function pageSize(args: PageArgs): number {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (first < 0 || first > MAX_PAGE_SIZE) {
    throw badInput('first', `must be between 0 and ${MAX_PAGE_SIZE} (it defaults to ${DEFAULT_PAGE_SIZE})`);
  }
  return first;
}

/** What each sort column of a list holds, so a cursor of another list is refused. */
export type CursorShape = readonly ('string' | 'date')[];

/**
 * Decodes an `after` cursor of a list sorted by columns of `shape`, refusing anything this list
 * did not hand out: the wrong number of values, or a value of the wrong kind (a cursor of another
 * list, or an object that would smuggle query operators into the keyset condition).
 */
export function decodeCursor(after: string | null | undefined, shape: CursorShape): (string | Date)[] | undefined {
  if (after == null) return undefined;
  let value: unknown;
  try {
    value = Cursor.decode(after);
  } catch {
    value = undefined;
  }
  // Dates come back as Date objects (the cursor holds them as ISO strings).
  const fits = (item: unknown, kind: CursorShape[number]) =>
    kind === 'string'
      ? typeof item === 'string'
      : item instanceof Date && !Number.isNaN(item.getTime()) && item.getUTCFullYear() >= 1 && item.getUTCFullYear() <= 9999;
  if (Array.isArray(value) && value.length === shape.length && value.every((item, i) => fits(item, shape[i]!))) {
    return value as (string | Date)[];
  }
  throw badInput('after', 'is not a cursor from this list; pass a pageInfo.endCursor or edges.cursor you were given');
}

/**
 * One page of an entity list by keyset (the cursor holds the sort values of the last row, so a
 * page costs the same wherever it is), with the total count. `orderBy` must end in a unique column.
 */
export async function paginate<T extends object>(
  em: EntityManager,
  entity: EntitySchema<T>,
  where: FilterQuery<T>,
  orderBy: QueryOrderMap<T>,
  args: PageArgs,
): Promise<Page<T>> {
  const first = pageSize(args);
  // Timestamps are the only non-text sort columns: createdAt, startedAt, …
  decodeCursor(args.after, Object.keys(orderBy).map((column) => (column.endsWith('At') ? 'date' : 'string')));
  const cursor = await em.findByCursor(entity, where, {
    first,
    after: args.after ?? undefined,
    orderBy,
    includeCount: true,
  } as never);
  const nodes = cursor.items as T[];
  const edges = nodes.map((node) => ({ cursor: cursor.from(node), node }));
  return {
    nodes,
    edges,
    pageInfo: {
      hasNextPage: cursor.hasNextPage,
      hasPreviousPage: args.after != null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: cursor.totalCount as number,
  };
}

export const PageInfoRef = builder.objectRef<Page<unknown>['pageInfo']>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    hasPreviousPage: t.exposeBoolean('hasPreviousPage'),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});

/** Declares `<Name>Edge` and `<Name>Connection` for a node type. */
export function connectionType<T extends object>(name: string, nodeRef: ObjectRef<BuilderTypes, T>) {
  const edgeRef = builder.objectRef<{ cursor: string; node: T }>(`${name}Edge`).implement({
    fields: (t) => ({
      cursor: t.exposeString('cursor'),
      // Pothos cannot narrow a generic node type; the shape is checked where each connection is used.
      node: t.field({ type: nodeRef, resolve: (edge) => edge.node as never }),
    }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [edgeRef], resolve: (page) => page.edges }),
      nodes: t.field({ type: [nodeRef], resolve: (page) => page.nodes }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (page) => page.pageInfo }),
      totalCount: t.exposeInt('totalCount'),
    }),
  });
}

/** The `first` and `after` arguments every list field takes. */
export const pageArgs = builder.args((t) => ({
  first: t.int({ description: `How many to return: ${DEFAULT_PAGE_SIZE} unless given, at most ${MAX_PAGE_SIZE}.` }),
  after: t.string({ description: 'Return the items after this cursor (pageInfo.endCursor of the previous page).' }),
}));
