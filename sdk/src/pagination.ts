/** One page of a list. Pass `endCursor` as `after` to get the next one. */
export interface Page<T> {
  nodes: T[];
  /** How many items the whole list holds. */
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface PageArgs {
  /** How many to return: 20 unless given, at most 100. */
  first?: number;
  /** The `endCursor` of the previous page. */
  after?: string | null;
}

/** A page of a list searched on the server: only the items whose name contains `search`, ignoring case. */
export interface SearchPageArgs extends PageArgs {
  /** At most 100 characters; `%` and `_` match themselves. Page on with the same search. */
  search?: string | null;
}

export interface IterateOptions {
  /** Items fetched per request, at most 100 (the default). */
  pageSize?: number;
}

/** The largest page the server gives: the fewest requests for a whole list. */
export const MAX_PAGE_SIZE = 100;

interface Connection<T> {
  nodes: T[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export function toPage<T>(connection: Connection<T>): Page<T> {
  return {
    nodes: connection.nodes,
    totalCount: connection.totalCount,
    hasNextPage: connection.pageInfo.hasNextPage,
    endCursor: connection.pageInfo.endCursor,
  };
}

/** Every item of a list, fetching page after page only as the caller reads on. */
export async function* iteratePages<T>(fetchPage: (args: Required<PageArgs>) => Promise<Page<T>>, options: IterateOptions = {}): AsyncGenerator<T, void, undefined> {
  const first = options.pageSize ?? MAX_PAGE_SIZE;
  let after: string | null = null;
  for (;;) {
    const page = await fetchPage({ first, after });
    yield* page.nodes;
    if (!page.hasNextPage || page.endCursor === null) return;
    after = page.endCursor;
  }
}

/** Collects an async iterator into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
