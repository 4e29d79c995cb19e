import type { Page, PageArgs, SearchPageArgs } from '@promptgate/sdk';
import { useCallback, useEffect, useRef, useState } from 'react';

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change; answers its data, error and loading state. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, error: null, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, generation]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

/** A value that follows `value` once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms = 250): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

export interface SearchList<T> {
  items: T[];
  /** The list's size on the server (every item, not only the matches). */
  totalCount: number | null;
  /** How many items were looked at so far while searching. */
  scanned: number;
  hasMore: boolean;
  loading: boolean;
  error: unknown;
  loadMore(): void;
  reload(): void;
}

const PAGE = 20;
const SCAN_PAGE = 100;
/** At most this many items are read per search step; "Search further" reads the next ones. */
const SCAN_LIMIT = 1000;

/** What one load of a list brings: the items to show, and where the list stands after it. */
interface Batch<T> {
  items: T[];
  totalCount: number;
  /** How many items the server sent (more than `items` when the browser filtered them). */
  seen: number;
  cursor: string | null;
  hasMore: boolean;
}

/**
 * The state both search lists share: batches appended (or a new first one on a reset), only the
 * newest load's answer kept, "More" and reload. `read` loads one batch after a cursor; it may
 * stop early when `stale()` says a newer load has begun.
 */
function usePagedList<T>(read: (after: string | null, stale: () => boolean) => Promise<Batch<T> | undefined>, deps: unknown[]): SearchList<T> {
  const [list, setList] = useState<Omit<Batch<T>, 'seen' | 'totalCount'> & { totalCount: number | null; scanned: number }>({
    items: [],
    totalCount: null,
    scanned: 0,
    cursor: null,
    hasMore: false,
  });
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const run = useRef(0);
  const [generation, setGeneration] = useState(0);

  const load = useCallback(async (after: string | null, reset: boolean) => {
    const id = ++run.current;
    const stale = () => id !== run.current;
    setLoading(true);
    setError(null);
    try {
      const batch = await read(after, stale);
      if (!batch || stale()) return;
      setList((old) => ({
        items: reset ? batch.items : [...old.items, ...batch.items],
        totalCount: batch.totalCount,
        scanned: (reset ? 0 : old.scanned) + batch.seen,
        cursor: batch.cursor,
        hasMore: batch.hasMore,
      }));
    } catch (e) {
      if (!stale()) setError(e);
    } finally {
      if (!stale()) setLoading(false);
    }
  }, deps);

  useEffect(() => {
    void load(null, true);
  }, [load, generation]);

  return {
    ...list,
    loading,
    error,
    loadMore: () => void load(list.cursor, false),
    reload: () => setGeneration((g) => g + 1),
  };
}

/**
 * A server-paged list with a search box. Without a search it shows pages of 20 as the server
 * orders them, with the total. With one it reads pages of 100 and keeps the matches, stopping
 * once a screenful is found or 1,000 were read, so a list of thousands is searched a few
 * requests at a time. For lists the API cannot search (the audit log); the others use
 * useServerSearchList.
 */
export function useSearchList<T>(
  fetchPage: (args: Required<PageArgs>) => Promise<Page<T>>,
  matches: (item: T, query: string) => boolean,
  query: string,
  deps: unknown[],
): SearchList<T> {
  const q = query.trim().toLowerCase();
  return usePagedList<T>(
    async (after, stale) => {
      const found: T[] = [];
      let next = after;
      let seen = 0;
      let more = true;
      let total = 0;
      do {
        const page = await fetchPage({ first: q ? SCAN_PAGE : PAGE, after: next });
        if (stale()) return undefined;
        total = page.totalCount;
        seen += page.nodes.length;
        found.push(...(q ? page.nodes.filter((item) => matches(item, q)) : page.nodes));
        more = page.hasNextPage && page.endCursor !== null;
        next = page.endCursor;
      } while (q && more && found.length < PAGE && seen < SCAN_LIMIT);
      return { items: found, totalCount: total, seen, cursor: next, hasMore: more };
    },
    [q, ...deps],
  );
}

/**
 * A server-paged list with a search box that the server searches (`search` argument): pages of
 * 20 of the matches, in the server's order, with the number of matches as the total; "More" reads
 * the next page of the same search. Fast at any size: nothing is filtered in the browser.
 */
export function useServerSearchList<T>(
  fetchPage: (args: SearchPageArgs & Required<PageArgs>) => Promise<Page<T>>,
  query: string,
  deps: unknown[],
): SearchList<T> {
  const search = query.trim();
  return usePagedList<T>(
    async (after) => {
      const page = await fetchPage({ first: PAGE, after, search: search || null });
      return { items: page.nodes, totalCount: page.totalCount, seen: page.nodes.length, cursor: page.endCursor, hasMore: page.hasNextPage && page.endCursor !== null };
    },
    [search, ...deps],
  );
}
