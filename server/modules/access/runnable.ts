import type { EntityManager, EntitySchema } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { limitClause } from '../../db/prepared.ts';
import { readOnlyEntities } from '../../db/read-only.ts';
import { byName, decodeCursor, pageOf, pageSize, type Page, type PageArgs } from '../../graphql/pagination.ts';
import { MAX_PAGE_SIZE } from '../../graphql/query-cost.ts';
import { FlowSchema, type Flow } from '../flow/flow.entity.ts';
import { PromptSchema, type Prompt } from '../prompt/prompt.entity.ts';
import { DIRECT_GRANT, grantPaths, keyReaches, ORGANIZATION_WIDE, type AccessPath } from './paths.ts';
import type { KeyFacts } from './rule.ts';

/**
 * What a key may run now, listed from the key's side (DESIGN.md rule 11): the access rule of
 * rule.ts, as pages ordered by (name, id) and as whole id sets (for the preview, preview.ts).
 *
 * The page of prompts is an ordered walk that stops at the page, whatever the key reaches:
 * - an organization-wide key walks its organization's live prompts (their (organization, name, id) index);
 * - a SPECIFIC key walks its rows of the access index (key_access_runnable: key, prompt name,
 *   prompt), which holds exactly the live prompts its grants reach, directly or through flows.
 * A revoked or expired key runs nothing. The paths of the page's rows are one more statement
 * (paths.ts), bounded by the page.
 */

export interface Runnable<T> {
  node: T;
  via: AccessPath[];
}

type Row = Record<string, unknown>;

function execute(em: EntityManager, sql: string, params: unknown[]): Promise<Row[]> {
  return (em as SqlEntityManager).execute<Row[]>(sql, params);
}

function emptyPage<T>(): Page<T> {
  return { edges: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null }, totalCount: 0 };
}

const promptOrder = byName('Prompt');
const flowOrder = byName('Flow');

/**
 * `rows` (with a total_count column) as objects of `schema`: read-only (db/read-only.ts), since a
 * page is only shown; only a query's loaders are primed with them (runnable.schema.ts).
 */
function mapRows<T extends object>(em: EntityManager, schema: EntitySchema<T>, rows: Row[]): T[] {
  return readOnlyEntities(em, schema, rows.filter((row) => row.id != null).map(({ total_count: _count, ...row }) => row));
}

interface PageSource {
  from: string;
  where: string;
  /** The rows counted for totalCount: the same set, read as cheaply as the store allows. */
  count: string;
  nameColumn: string;
  idColumn: string;
}

/**
 * The statement of one page: rows after the keyset cursor, `limit` of them, with the total count.
 * Parameters: the owner (for the count), the owner (for the page), the cursor's name and id if
 * any; the limit is in the text (limitClause).
 */
function pageStatement(source: PageSource, after: boolean, limit: number): string {
  // Row values compare (name, id) as the cursor does, and both stores seek an index with them.
  const keyset = after ? ` and (${source.nameColumn}, ${source.idColumn}) > (?, ?)` : '';
  // The count rides along in the same statement; the left join keeps it when the page is empty.
  return `select x.*, c.total_count
    from (${source.count}) c
    left join (select r.* from ${source.from} where ${source.where}${keyset}
               order by ${source.nameColumn}, ${source.idColumn} ${limitClause(limit, MAX_PAGE_SIZE + 1)}) x on 1 = 1
    order by x.name, x.id`;
}

/** A page of the prompts `key` may run now, ordered by (name, id), each with its paths. */
export async function runnablePromptPage(em: EntityManager, key: KeyFacts, args: PageArgs, now: Date): Promise<Page<Runnable<Prompt>>> {
  const first = pageSize(args);
  const decoded = decodeCursor(args.after, promptOrder);
  if (!keyReaches(key, key.organizationId, now)) return emptyPage();
  const after = decoded ? [decoded.values[0], decoded.id] : [];
  const source =
    key.access === 'ORGANIZATION'
      ? {
          from: 'prompts r',
          where: 'r.organization_id = ? and r.deleted_at is null',
          count: 'select count(*) as total_count from prompts r where r.organization_id = ? and r.deleted_at is null',
          nameColumn: 'r.name',
          idColumn: 'r.id',
        }
      : {
          // The walk is of key_access_runnable; the join is one lookup per row of the page. The
          // index holds live prompts only (a deleted prompt's rows go with it), so the count is of
          // the index alone.
          from: 'key_access a join prompts r on r.id = a.prompt_id',
          where: 'a.api_key_id = ?',
          count: 'select count(*) as total_count from key_access a where a.api_key_id = ?',
          nameColumn: 'a.prompt_name',
          idColumn: 'a.prompt_id',
        };
  const owner = key.access === 'ORGANIZATION' ? key.organizationId : key.id;
  const rows = await execute(em, pageStatement(source, !!decoded, first + 1), [owner, owner, ...after]);
  const prompts = mapRows(em, PromptSchema, rows);
  const page = pageOf(promptOrder, prompts, first, args, Number(rows[0]?.total_count ?? 0));
  const paths = key.access === 'ORGANIZATION' ? undefined : await grantPaths(em, key.id, 'prompt', page.edges.map((edge) => edge.node.id));
  return withPaths(page, (prompt) => paths?.get(prompt.id) ?? [ORGANIZATION_WIDE]);
}

/** A page of the flows `key` may run now, ordered by (name, id): a flow has one path, its grant or the organization. */
export async function runnableFlowPage(em: EntityManager, key: KeyFacts, args: PageArgs, now: Date): Promise<Page<Runnable<Flow>>> {
  const first = pageSize(args);
  const decoded = decodeCursor(args.after, flowOrder);
  if (!keyReaches(key, key.organizationId, now)) return emptyPage();
  const after = decoded ? [decoded.values[0], decoded.id] : [];
  const source =
    key.access === 'ORGANIZATION'
      ? {
          from: 'flows r',
          where: 'r.organization_id = ? and r.deleted_at is null',
          count: 'select count(*) as total_count from flows r where r.organization_id = ? and r.deleted_at is null',
          nameColumn: 'r.name',
          idColumn: 'r.id',
        }
      : {
          // A key holds at most MAX_GRANTS_PER_KEY grants: the sort is bounded by that.
          from: 'api_key_flow_grants g join flows r on r.id = g.flow_id',
          where: 'g.api_key_id = ? and r.deleted_at is null',
          count: 'select count(*) as total_count from api_key_flow_grants g join flows r on r.id = g.flow_id where g.api_key_id = ? and r.deleted_at is null',
          nameColumn: 'r.name',
          idColumn: 'r.id',
        };
  const owner = key.access === 'ORGANIZATION' ? key.organizationId : key.id;
  const rows = await execute(em, pageStatement(source, !!decoded, first + 1), [owner, owner, ...after]);
  const page = pageOf(flowOrder, mapRows(em, FlowSchema, rows), first, args, Number(rows[0]?.total_count ?? 0));
  const via = key.access === 'ORGANIZATION' ? ORGANIZATION_WIDE : DIRECT_GRANT;
  return withPaths(page, () => [via]);
}

function withPaths<T extends { id: string }>(page: Page<T>, via: (node: T) => AccessPath[]): Page<Runnable<T>> {
  return { ...page, edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: { node: edge.node, via: via(edge.node) } })) };
}

/**
 * Every prompt and flow id `key` may run now, by the same sources as the pages: what the preview
 * compares before and after a change (inside its transaction, so it sees the change).
 */
export async function runnableIds(em: EntityManager, key: KeyFacts, now: Date): Promise<{ promptIds: Set<string>; flowIds: Set<string> }> {
  if (!keyReaches(key, key.organizationId, now)) return { promptIds: new Set(), flowIds: new Set() };
  const ids = (rows: Row[]) => new Set(rows.map((row) => row.id as string));
  if (key.access === 'ORGANIZATION') {
    const [prompts, flows] = [
      await execute(em, 'select r.id from prompts r where r.organization_id = ? and r.deleted_at is null', [key.organizationId]),
      await execute(em, 'select r.id from flows r where r.organization_id = ? and r.deleted_at is null', [key.organizationId]),
    ];
    return { promptIds: ids(prompts), flowIds: ids(flows) };
  }
  const [prompts, flows] = [
    await execute(em, 'select a.prompt_id as id from key_access a where a.api_key_id = ?', [key.id]),
    await execute(em, 'select g.flow_id as id from api_key_flow_grants g join flows r on r.id = g.flow_id where g.api_key_id = ? and r.deleted_at is null', [key.id]),
  ];
  return { promptIds: ids(prompts), flowIds: ids(flows) };
}
