import type { EntityManager } from '@mikro-orm/core';
import { Cursor } from '@mikro-orm/core';
import { availableKeysQuery, type Resource } from '../../auth/access.ts';
import { decodeCursor, pageSize, type Page, type PageArgs } from '../../graphql/pagination.ts';
import { ApiKeySchema, type ApiKey } from './api-key.entity.ts';

/**
 * The keys that may run a prompt or flow now, ordered by name: the Integrate tab. One SQL
 * statement (auth/access.ts) gives the page and the total count together.
 */
export async function availableApiKeys(em: EntityManager, resource: Resource, args: PageArgs, now: Date): Promise<Page<ApiKey>> {
  const first = pageSize(args);
  const decoded = decodeCursor(args.after, ['string', 'string']) as [string, string] | undefined;
  const after = decoded && { name: decoded[0], id: decoded[1] };
  // One more row than asked tells whether there is a next page.
  const { sql, params } = availableKeysQuery(em, resource, now, { limit: first + 1, after });
  const rows: Record<string, unknown>[] = await em.getConnection().execute(sql, params);
  const totalCount = Number(rows[0]?.total_count ?? 0);
  const keys = rows.filter((row) => row.id != null).map(({ total_count: _count, ...row }) => em.map(ApiKeySchema, row));
  const nodes = keys.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: Cursor.encode([node.name, node.id]), node }));
  return {
    nodes,
    edges,
    pageInfo: {
      hasNextPage: keys.length > first,
      hasPreviousPage: after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}
