import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { earliest, isPostgres } from '../../db/dialect.ts';
import { limitClause, preparedDb, statement, type Statement } from '../../db/prepared.ts';
import { MAX_PAGE_SIZE } from '../../graphql/query-cost.ts';
import type { ApiKeyAccess } from '../api-key/api-key.entity.ts';

/**
 * The access index (access-index.entity.ts): the rule of rule.ts precomputed per prompt, so that the
 * Integrate tab reads a page by walking it and stopping, and a total from maintained counts.
 *
 * Every change that can alter who reaches a prompt calls one function here, in its own transaction,
 * after its rows are flushed: a key's grants, access, name, expiry or revocation (`keyChanged`), a
 * flow's steps or its deletion (`keysReindexed`), a prompt's deletion (`promptDeleted`). Each one
 * recomputes the affected rows from the grants themselves (delete, then insert … select), so the
 * index can only ever be what the grants say, and adjusts the counts by the difference: of keys
 * that never expire (key_access_counts) and of keys per day of their expiry
 * (key_access_expiry_counts).
 *
 * The reads (`promptPage`) are here too: the index and its statements change together.
 */

/** Which keys to recompute: a list, or every key granted a flow (a subquery, no id list to send). */
type KeySelector = { keyIds: readonly string[] } | { flowId: string };

/** What decides whether an organization-wide key counts in its organization's maintained count. */
export interface KeyCountState {
  organizationId: string;
  access: ApiKeyAccess;
  expiresAt: Date | null | undefined;
  revokedAt: Date | null | undefined;
}

function run(em: EntityManager, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  // The request's (or transaction's) EntityManager: statements join the open transaction.
  return (em as SqlEntityManager).execute(sql, params);
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

function keyCondition(column: string, keys: KeySelector): { sql: string; params: unknown[] } {
  return 'flowId' in keys
    ? { sql: `${column} in (select fg.api_key_id from api_key_flow_grants fg where fg.flow_id = ?)`, params: [keys.flowId] }
    : { sql: `${column} in (${placeholders(keys.keyIds)})`, params: [...keys.keyIds] };
}

function promptCondition(column: string, promptIds: readonly string[] | undefined): { sql: string; params: unknown[] } {
  return promptIds ? { sql: ` and ${column} in (${placeholders(promptIds)})`, params: [...promptIds] } : { sql: '', params: [] };
}

const DAY_MS = 86_400_000;

/** The UTC day of a moment, as the expiry counts number them (days since 1970-01-01). */
export function expiryDay(at: Date): number {
  return Math.floor(at.getTime() / DAY_MS);
}

/** The same day of a stored timestamp, in SQL: epoch milliseconds on SQLite, timestamptz on PostgreSQL. */
function expiryDaySql(postgres: boolean, column: string): string {
  return postgres ? `floor(extract(epoch from ${column}) / 86400)::int` : `(${column} / ${DAY_MS})`;
}

/** A count's key: the scope (prompt or organization) and the expiry day, or no day for keys that never expire. */
type CountKey = `${string} ${number | 'never'}`;

/** Index rows per prompt among the selected rows: of keys that never expire, and per expiry day. */
async function countsByPrompt(em: EntityManager, keys: KeySelector, promptIds?: readonly string[]): Promise<Map<CountKey, number>> {
  const key = keyCondition('a.api_key_id', keys);
  const prompt = promptCondition('a.prompt_id', promptIds);
  const rows = await run(
    em,
    `select a.prompt_id, case when a.expires_at is null then null else ${expiryDaySql(isPostgres(em), 'a.expires_at')} end as day, count(*) as n
     from key_access a where ${key.sql}${prompt.sql} group by a.prompt_id, day`,
    [...key.params, ...prompt.params],
  );
  return new Map(rows.map((row) => [`${row.prompt_id as string} ${row.day == null ? 'never' : Number(row.day)}`, Number(row.n)]));
}

/**
 * Adds to the maintained counts, in (scope, day) order: two transactions adding to the same rows
 * on PostgreSQL lock them in the same order and never deadlock.
 */
async function addToCounts(em: EntityManager, deltas: Map<CountKey, number>): Promise<void> {
  const changed = [...deltas]
    .filter(([, delta]) => delta !== 0)
    .map(([countKey, delta]) => {
      const [scope, day] = countKey.split(' ') as [string, string];
      return { scope, day: day === 'never' ? undefined : Number(day), delta };
    })
    .sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : (a.day ?? -1) - (b.day ?? -1)));
  const never = changed.filter((c) => c.day === undefined);
  const byDay = changed.filter((c) => c.day !== undefined);
  if (never.length) {
    await run(
      em,
      `insert into key_access_counts (scope_id, non_expiring) values ${never.map(() => '(?, ?)').join(', ')}
       on conflict (scope_id) do update set non_expiring = key_access_counts.non_expiring + excluded.non_expiring`,
      never.flatMap((c) => [c.scope, c.delta]),
    );
  }
  if (byDay.length) {
    await run(
      em,
      `insert into key_access_expiry_counts (scope_id, expiry_day, keys) values ${byDay.map(() => '(?, ?, ?)').join(', ')}
       on conflict (scope_id, expiry_day) do update set keys = key_access_expiry_counts.keys + excluded.keys`,
      byDay.flatMap((c) => [c.scope, c.day, c.delta]),
    );
  }
}

/** after − before, for every count either has. */
function difference(before: Map<CountKey, number>, after: Map<CountKey, number>): Map<CountKey, number> {
  const deltas = new Map<CountKey, number>();
  for (const key of new Set([...before.keys(), ...after.keys()])) deltas.set(key, (after.get(key) ?? 0) - (before.get(key) ?? 0));
  return deltas;
}

/**
 * Recomputes the index rows of the selected keys (only those of the given prompts, if given) from
 * the grants as they now stand, and moves the counts by the difference.
 */
async function reindex(em: EntityManager, keys: KeySelector, promptIds?: readonly string[]): Promise<void> {
  if ('keyIds' in keys && !keys.keyIds.length) return;
  if (promptIds && !promptIds.length) return;
  const before = await countsByPrompt(em, keys, promptIds);
  const key = keyCondition('api_key_id', keys);
  const prompt = promptCondition('prompt_id', promptIds);
  await run(em, `delete from key_access where ${key.sql}${prompt.sql}`, [...key.params, ...prompt.params]);
  const direct = keyCondition('g.api_key_id', keys);
  const directPrompt = promptCondition('g.prompt_id', promptIds);
  const viaFlow = keyCondition('g.api_key_id', keys);
  const viaFlowPrompt = promptCondition('s.prompt_id', promptIds);
  await run(
    em,
    `insert into key_access (prompt_id, api_key_id, key_name, prompt_name, expires_at, paths)
     select x.prompt_id, k.id, k.name, p.name, k.expires_at, count(*)
     from (select g.api_key_id, g.prompt_id from api_key_prompt_grants g where ${direct.sql}${directPrompt.sql}
           union all
           select g.api_key_id, s.prompt_id from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id
           where ${viaFlow.sql}${viaFlowPrompt.sql}) x
     join api_keys k on k.id = x.api_key_id
     join prompts p on p.id = x.prompt_id
     where k.access = 'SPECIFIC' and k.revoked_at is null and p.deleted_at is null
     group by x.prompt_id, k.id, k.name, p.name, k.expires_at`,
    [...direct.params, ...directPrompt.params, ...viaFlow.params, ...viaFlowPrompt.params],
  );
  await addToCounts(em, difference(before, await countsByPrompt(em, keys, promptIds)));
}

/** The organization's count an organization-wide key is in (never expiring, or its expiry's day), if any. */
function organizationWideCount(state: KeyCountState | undefined): CountKey | undefined {
  if (!state || state.access !== 'ORGANIZATION' || state.revokedAt) return undefined;
  return `${state.organizationId} ${state.expiresAt ? expiryDay(state.expiresAt) : 'never'}`;
}

/**
 * A key was created or changed (grants, access, name, expiry, revocation): its index rows are
 * recomputed and its organization's counts of organization-wide keys follow. `before` is the key
 * as it was (absent for a new key), `after` as it is now; the key's rows must be flushed.
 */
export async function keyChanged(em: EntityManager, keyId: string, before: KeyCountState | undefined, after: KeyCountState): Promise<void> {
  await reindex(em, { keyIds: [keyId] });
  const deltas = new Map<CountKey, number>();
  const was = organizationWideCount(before);
  const is = organizationWideCount(after);
  if (was) deltas.set(was, -1);
  if (is) deltas.set(is, (deltas.get(is) ?? 0) + 1);
  await addToCounts(em, deltas);
}

/**
 * The steps of a flow changed: the rows of every key granted the flow are recomputed for the
 * prompts the flow ran before or runs now (the others cannot have changed).
 */
export async function flowStepsChanged(em: EntityManager, flowId: string, promptIds: readonly string[]): Promise<void> {
  await reindex(em, { flowId }, [...new Set(promptIds)]);
}

/**
 * Grants were taken from these keys (a flow was deleted): their rows for these prompts are
 * recomputed from the grants that remain.
 */
export async function keysReindexed(em: EntityManager, keyIds: readonly string[], promptIds: readonly string[]): Promise<void> {
  await reindex(em, { keyIds }, [...new Set(promptIds)]);
}

/** A prompt was renamed: its rows carry the name that orders a key's runnable prompts. */
export async function promptRenamed(em: EntityManager, promptId: string, name: string): Promise<void> {
  await run(em, 'update key_access set prompt_name = ? where prompt_id = ?', [name, promptId]);
}

/** A prompt was deleted: no key reaches it any more. */
export async function promptDeleted(em: EntityManager, promptId: string): Promise<void> {
  await run(em, 'delete from key_access where prompt_id = ?', [promptId]);
  await run(em, 'delete from key_access_counts where scope_id = ?', [promptId]);
  await run(em, 'delete from key_access_expiry_counts where scope_id = ?', [promptId]);
}

/**
 * Deletes the expiry counts of days before `now`'s, which no total reads again (the minute sweep
 * calls it). A later change to a key that expired then may write a count for its day again: that
 * is harmless (never read) and goes with the next sweep.
 */
export async function pruneExpiredCounts(em: EntityManager, now: Date): Promise<void> {
  await run(em, 'delete from key_access_expiry_counts where expiry_day < ?', [expiryDay(now)]);
}

/**
 * Builds the whole index and its counts from the grants: what a migration runs on a database that
 * already has grants, and the bench after its bulk seed. (The services keep it from then on.)
 */
export function buildIndexSql(postgres: boolean): string[] {
  return [
    `insert into key_access (prompt_id, api_key_id, key_name, prompt_name, expires_at, paths)
     select x.prompt_id, k.id, k.name, p.name, k.expires_at, count(*)
     from (select g.api_key_id, g.prompt_id from api_key_prompt_grants g
           union all
           select g.api_key_id, s.prompt_id from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id) x
     join api_keys k on k.id = x.api_key_id
     join prompts p on p.id = x.prompt_id
     where k.access = 'SPECIFIC' and k.revoked_at is null and p.deleted_at is null
     group by x.prompt_id, k.id, k.name, p.name, k.expires_at`,
    `insert into key_access_counts (scope_id, non_expiring)
     select prompt_id, count(*) from key_access where expires_at is null group by prompt_id`,
    `insert into key_access_counts (scope_id, non_expiring)
     select organization_id, count(*) from api_keys
     where access = 'ORGANIZATION' and revoked_at is null and expires_at is null group by organization_id`,
    ...expiryCountsSql(postgres),
  ];
}

/** The expiry counts, from the index and the keys. */
function expiryCountsSql(postgres: boolean): string[] {
  return [
    `insert into key_access_expiry_counts (scope_id, expiry_day, keys)
     select prompt_id, ${expiryDaySql(postgres, 'expires_at')} as day, count(*) from key_access
     where expires_at is not null group by prompt_id, day`,
    `insert into key_access_expiry_counts (scope_id, expiry_day, keys)
     select organization_id, ${expiryDaySql(postgres, 'expires_at')} as day, count(*) from api_keys
     where access = 'ORGANIZATION' and revoked_at is null and expires_at is not null group by organization_id, day`,
  ];
}

/**
 * The page statement in its shapes: the first page or a page after a cursor, for one page size
 * (written into the text: limitClause says why).
 */
function promptPageSql(after: boolean, limit: number, columns: string): string {
  const cut = limitClause(limit, MAX_PAGE_SIZE + 1);
  // Row values compare (name, id) as the cursor does, and both stores seek an index with them.
  const indexAfter = after ? ' and (a.key_name, a.api_key_id) > (?, ?)' : '';
  const orgAfter = after ? ' and (o.name, o.id) > (?, ?)' : '';
  // The next expiry among the eligible keys (two index seeks) is when the answer stops being true:
  // the page may be kept until then (promptPage).
  // The two walks are merged and cut to the page BEFORE the keys' rows are joined: joining first
  // read every row of both walks (twice the page) and sorted the wide rows, 2.5× the time on SQLite.
  // The total stands alone on the left, so an empty page (past the end) still carries it. The
  // page's columns have names of their own: SQLite would rename k's id and name beside them.
  return `select ${columns}, t.total_count, t.index_expiry, t.organization_expiry from
       (select (select coalesce(sum(c.non_expiring), 0) from key_access_counts c where c.scope_id in (?, ?))
             + (select coalesce(sum(d.keys), 0) from key_access_expiry_counts d where d.scope_id in (?, ?) and d.expiry_day > ?)
             + (select count(*) from key_access a where a.prompt_id = ? and a.expires_at > ? and a.expires_at < ?)
             + (select count(*) from api_keys o where o.organization_id = ? and o.access = 'ORGANIZATION'
                  and o.revoked_at is null and o.expires_at > ? and o.expires_at < ?) as total_count,
             (select min(a.expires_at) from key_access a where a.prompt_id = ? and a.expires_at > ?) as index_expiry,
             (select min(o.expires_at) from api_keys o where o.organization_id = ? and o.access = 'ORGANIZATION'
                and o.revoked_at is null and o.expires_at > ?) as organization_expiry) t
     left join (
       (select id as page_id, name as page_name from (
          select id, name from (
            select a.api_key_id as id, a.key_name as name from key_access a
            where a.prompt_id = ? and (a.expires_at is null or a.expires_at > ?)${indexAfter}
            order by a.key_name, a.api_key_id ${cut}) x
          union all
          select id, name from (
            select o.id, o.name from api_keys o
            where o.organization_id = ? and o.access = 'ORGANIZATION' and o.revoked_at is null
              and (o.expires_at is null or o.expires_at > ?)${orgAfter}
            order by o.name, o.id ${cut}) y
          order by name, id ${cut}) m) e
       join api_keys k on k.id = e.page_id
     ) on 1 = 1
     order by e.page_name, e.page_id`;
}

const pageStatements = new Map<string, Statement>();

/** The page statement of a shape, declared on first use. */
function pageStatement(after: boolean, limit: number, columns: string): Statement {
  const shape = `${after ? 'after' : 'first'}:${limit}:${columns}`;
  let found = pageStatements.get(shape);
  if (!found) pageStatements.set(shape, (found = statement(after ? 'prompt_page_after' : 'prompt_page', promptPageSql(after, limit, columns))));
  return found;
}

/** A page of keys as its statement returned it, with the moment the clock ends it. */
export interface PageRead {
  rows: Record<string, unknown>[];
  totalCount: number;
  /** Epoch ms of the next expiry among the keys that may run the resource; Infinity when none expires. */
  nextExpiry: number;
}

/**
 * A page of the keys that may run a prompt now, ordered by (name, id), after the keyset cursor if
 * any, at most `limit`, and the total, in one statement:
 * - the page merges two ordered walks that each stop after `limit` rows: the prompt's index rows
 *   (key_access_page) and the organization's active organization-wide keys (their api_keys index);
 * - the total adds the maintained counts (keys that never expire, keys expiring after today) to
 *   a count of the keys expiring later today, each a range of an index;
 * - the next expiry among those keys is two index seeks: until then only a change alters the page
 *   (available-keys.ts keeps it).
 * Its cost follows the page and the number of keys expiring today, not the number of keys.
 */
export async function promptPage(
  em: EntityManager,
  prompt: { id: string; organizationId: string },
  now: Date,
  /** `columns`: the select list of the page's keys, alias k (available-keys.ts); all by default. */
  page: { limit: number; after?: { name: string; id: string }; columns?: string },
): Promise<PageRead> {
  const afterParams = page.after ? [page.after.name, page.after.id] : [];
  // Prepared once per shape (db/prepared.ts): a read outside any transaction, as the Integrate tab is.
  const today = expiryDay(now);
  const tomorrow = new Date((today + 1) * DAY_MS);
  const rows = await (await preparedDb(em)).all(pageStatement(!!page.after, page.limit, page.columns ?? 'k.*'), [
    prompt.id,
    prompt.organizationId,
    prompt.id,
    prompt.organizationId,
    today,
    prompt.id,
    now,
    tomorrow,
    prompt.organizationId,
    now,
    tomorrow,
    prompt.id,
    now,
    prompt.organizationId,
    now,
    prompt.id,
    now,
    ...afterParams,
    prompt.organizationId,
    now,
    ...afterParams,
  ]);
  const first = rows[0];
  return { rows, totalCount: Number(first?.total_count ?? 0), nextExpiry: earliest(first?.index_expiry, first?.organization_expiry) };
}
