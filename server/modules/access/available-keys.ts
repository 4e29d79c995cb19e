import type { EntityManager } from '@mikro-orm/core';
import { byName, decodeCursor, pageOf, pageSize, type Page, type PageArgs } from '../../graphql/pagination.ts';
import { preparedDb, statementFor } from '../../db/prepared.ts';
import { partialReadOnlyEntities } from '../../db/read-only.ts';
import { ApiKeySchema, type ApiKey } from '../api-key/api-key.entity.ts';
import { keptFor, keyPropertiesRead, type KeyColumnGroup } from '../api-key/key-columns.ts';
import { likePattern } from '../../graphql/search.ts';
import { earliest } from '../../db/dialect.ts';
import { promptPage, type PageRead } from './access-index.ts';
import { keptPage } from './kept-pages.ts';
import { availableKeysQuery, type Resource } from './rule.ts';

/**
 * The keys that may run a prompt or flow now, ordered by name: the Integrate tab. One SQL
 * statement gives the page and the total count together: for a prompt, walks of the access index
 * that stop at the page (access-index.ts); for a flow, the rule's statement over the flow's direct
 * grants (rule.ts), whose size follows the keys granted that one flow. Ordered like
 * Organization.apiKeys (name, then id), so the two share one cursor shape.
 */
const order = byName('ApiKey');

export async function availableApiKeys(
  /** Any EntityManager of the ORM: only its driver and metadata are used (the request's own is not needed). */
  em: EntityManager,
  resource: Resource,
  args: PageArgs & { search?: string | null },
  now: Date,
  /** The columns the query's fields need (key-columns.ts); null: the whole row. */
  groups: readonly KeyColumnGroup[] | null = null,
): Promise<Page<ApiKey>> {
  const first = pageSize(args);
  const decoded = decodeCursor(args.after, order);
  const after = decoded && { name: decoded.values[0] as string, id: decoded.id };
  const namePattern = likePattern(args.search);
  // One more row than asked tells whether there is a next page.
  const read = keyRead(em, groups);
  const page = { limit: first + 1, after, namePattern, columns: read.columns };
  // The access index's walks and maintained counts serve the unfiltered prompt list; a search
  // (whose count no maintained total knows) goes through the rule's statement, as flows do.
  const byIndex = resource.kind === 'prompt' && !namePattern;
  const shape = [resource.kind, resource.id, namePattern, page.limit, read.columns, after?.name, after?.id];
  const keepMs = keptFor(groups);
  const found = await keptPage(em, JSON.stringify(shape), now, keepMs, () =>
    byIndex ? promptPage(em, resource, now, page) : rulePage(em, resource, now, page),
  );
  // Shown, never changed: plain objects shaped like the entity, not managed entities, with only the
  // properties read (db/read-only.ts). A kept page's objects are made once and shared by the
  // requests it answers: nothing changes them, and no loader is primed with them (primeKeys).
  const make = () => partialReadOnlyEntities(em, ApiKeySchema, found.rows.filter((row) => row.id != null), read.properties);
  let keys = keepMs > 0 ? keysOfPage.get(found) : make();
  if (!keys) keysOfPage.set(found, (keys = make()));
  return pageOf(order, keys, first, args, found.totalCount);
}

/**
 * The keys of a kept page as read (the page is the same object on every request it answers). A
 * page never kept is not entered: an entry keyed by a request's own object would live, with its
 * keys, until a full collection (graphql/release-request.ts says why).
 */
const keysOfPage = new WeakMap<PageRead, ApiKey[]>();

async function rulePage(em: EntityManager, resource: Resource, now: Date, page: Parameters<typeof availableKeysQuery>[3]): Promise<PageRead> {
  const { sql, params } = availableKeysQuery(em, resource, now, page);
  // Its text has a few shapes (kind, cursor, search, columns), each prepared once.
  const rows = await (await preparedDb(em)).all(statementFor('available_keys', sql), params);
  return { rows, totalCount: Number(rows[0]?.total_count ?? 0), nextExpiry: earliest(rows[0]?.next_expiry) };
}

/** The select list of a page's keys (alias k) and the properties it gives: the narrow one or the whole row. */
const keyReads = new Map<string, { columns: string; properties: readonly string[] }>();

function keyRead(em: EntityManager, groups: readonly KeyColumnGroup[] | null): { columns: string; properties: readonly string[] } {
  const narrow = keyPropertiesRead(groups);
  const shape = narrow ? 'narrow' : 'whole';
  let read = keyReads.get(shape);
  if (!read) {
    const props = em.getMetadata().get(ApiKeySchema.meta.className).props.filter((prop) => prop.persist !== false);
    const columnOf = new Map(props.map((prop) => [prop.name as string, prop.fieldNames[0]!]));
    const columns = narrow ? narrow.map((property) => `k.${columnOf.get(property)!}`).join(', ') : 'k.*';
    keyReads.set(shape, (read = { columns, properties: narrow ?? [...columnOf.keys()] }));
  }
  return read;
}
