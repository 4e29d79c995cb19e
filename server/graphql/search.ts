import { raw, type FilterQuery } from '@mikro-orm/core';
import { builder } from '../builder.ts';
import { badInput } from '../errors.ts';

/**
 * Server-side "name contains" search for the lists a dashboard searches (prompts, flows, keys,
 * the keys of an Integrate tab): case-insensitive, with the caller's `%` and `_` matched as
 * themselves. Bounded so that a search cannot become an expensive pattern.
 */
export const MAX_SEARCH_LENGTH = 100;

export const searchArgs = builder.args((t) => ({
  search: t.string({
    description: `Only the items whose name contains this text, ignoring case (at most ${MAX_SEARCH_LENGTH} characters; empty means all).`,
  }),
}));

/** The escape character of every search pattern (declared by `escape`, as SQLite has none by default). */
const ESCAPE = '\\';

/**
 * The LIKE pattern of a search, lower-cased (compare it with `lower(name)`), or null when there
 * is nothing to search for. Too long is BAD_USER_INPUT.
 */
export function likePattern(search: string | null | undefined): string | null {
  if (search == null || search === '') return null;
  if (search.length > MAX_SEARCH_LENGTH) throw badInput('search', `must be at most ${MAX_SEARCH_LENGTH} characters`);
  const escaped = search.toLowerCase().replace(/[\\%_]/g, (c) => ESCAPE + c);
  return `%${escaped}%`;
}

/** SQL that keeps the rows whose `column` matches the pattern, for hand-written statements. */
export function nameLike(column: string): string {
  return `lower(${column}) like ? escape '${ESCAPE}'`;
}

/**
 * A MikroORM filter on `name` for a pattern of likePattern, or {} for none. A function, as a raw
 * fragment is spent by the query that uses it: call it once per query.
 */
export function nameFilter<T>(pattern: string | null): () => FilterQuery<T> {
  if (pattern === null) return () => ({}) as FilterQuery<T>;
  return () => ({ [raw((alias: string) => nameLike(`${alias}.name`), [pattern])]: [] }) as FilterQuery<T>;
}
