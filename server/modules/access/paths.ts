import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Principal } from '../../auth/principal.ts';
import { keyStatus, type KeyFacts, type Resource } from './rule.ts';

/**
 * Every path by which a key reaches a prompt or flow (DESIGN.md rule 11): the access rule of
 * rule.ts, naming its reasons instead of answering yes or no. A key reaches a resource exactly when
 * it has at least one path, so `via` is empty exactly when rule.ts refuses.
 *
 * - ORGANIZATION_WIDE: the key's access is ORGANIZATION (its only path);
 * - DIRECT_GRANT: the prompt or flow itself is granted;
 * - FLOW_GRANT: one per granted flow that runs the prompt as a step (prompts only).
 */
export type AccessPathKind = 'ORGANIZATION_WIDE' | 'DIRECT_GRANT' | 'FLOW_GRANT';

export interface AccessPath {
  kind: AccessPathKind;
  /** For FLOW_GRANT: the granted flow that runs the prompt. */
  flowId: string | null;
}

export const ORGANIZATION_WIDE: AccessPath = { kind: 'ORGANIZATION_WIDE', flowId: null };
export const DIRECT_GRANT: AccessPath = { kind: 'DIRECT_GRANT', flowId: null };

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

/**
 * The grant paths of a SPECIFIC key to each of the given prompts or flows, in one statement: the
 * direct grant first, then the granted flows running the prompt by (name, id). A resource with no
 * path is absent from the map. (Whether the key is active is the caller's part: see accessPaths.)
 */
export async function grantPaths(em: EntityManager, keyId: string, kind: Resource['kind'], ids: readonly string[]): Promise<Map<string, AccessPath[]>> {
  const paths = new Map<string, AccessPath[]>();
  if (!ids.length) return paths;
  const sql =
    kind === 'flow'
      ? `select g.flow_id as resource_id, null as flow_id, 0 as rank, '' as flow_name from api_key_flow_grants g
         where g.api_key_id = ? and g.flow_id in (${placeholders(ids)})`
      : // The flow paths start from the prompts' steps (a prompt runs in a few flows) and look each
        // flow's grant up by its key: starting from the key's granted flows read every step of
        // every one (10,000 for a key reaching 10,000 prompts through 500 flows: 3.3 ms against
        // 0.26 ms on SQLite). SQLite keeps a CROSS JOIN's order; PostgreSQL plans either way.
        `select g.prompt_id as resource_id, null as flow_id, 0 as rank, '' as flow_name from api_key_prompt_grants g
         where g.api_key_id = ? and g.prompt_id in (${placeholders(ids)})
         union
         select s.prompt_id, g.flow_id, 1, f.name from flow_steps s
           cross join api_key_flow_grants g
           join flows f on f.id = g.flow_id
         where s.prompt_id in (${placeholders(ids)}) and g.api_key_id = ? and g.flow_id = s.flow_id and f.deleted_at is null
         order by resource_id, rank, flow_name, flow_id`;
  const params = kind === 'flow' ? [keyId, ...ids] : [keyId, ...ids, ...ids, keyId];
  // `union` (not `union all`): a flow that runs the prompt at two steps is one path.
  const rows = await (em as SqlEntityManager).execute<Record<string, unknown>[]>(sql, params);
  for (const row of rows) {
    const id = row.resource_id as string;
    const list = paths.get(id) ?? [];
    list.push(row.flow_id ? { kind: 'FLOW_GRANT', flowId: row.flow_id as string } : DIRECT_GRANT);
    paths.set(id, list);
  }
  return paths;
}

/** Whether the rule can let the key reach anything of the organization at all (active, same organization). */
export function keyReaches(key: KeyFacts, organizationId: string, now: Date): boolean {
  return keyStatus(key, now) === 'ACTIVE' && key.organizationId === organizationId;
}

/** Every path by which `key` reaches `resource` now; empty when the access rule refuses. */
export async function accessPaths(em: EntityManager, key: KeyFacts, resource: Resource, now: Date): Promise<AccessPath[]> {
  if (!keyReaches(key, resource.organizationId, now)) return [];
  if (key.access === 'ORGANIZATION') return [ORGANIZATION_WIDE];
  return (await grantPaths(em, key.id, resource.kind, [resource.id])).get(resource.id) ?? [];
}

/** What a run records about the path that let its key in: the first path, and the grant it names. */
export interface RecordedPath {
  accessVia: AccessPathKind | null;
  /** The granted prompt or flow (for FLOW_GRANT: the flow); null for ORGANIZATION_WIDE and user runs. */
  grantedBy: string | null;
}

const NO_PATH: RecordedPath = { accessVia: null, grantedBy: null };

/**
 * The first grant of a key that covers a prompt, as an SQL expression over the prompt id held by
 * `idColumn`: the prompt itself when granted directly, else the first granted flow that runs it,
 * in grantPaths's order (name, id); null when none does. key-path.ts reads it with the prompt, so
 * a run records its path with no statement of its own. Parameters: the key id, twice.
 */
export function firstGrantSql(idColumn: string): string {
  return `coalesce(
    (select g.prompt_id from api_key_prompt_grants g where g.api_key_id = ? and g.prompt_id = ${idColumn}),
    (select g.flow_id from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id join flows f on f.id = g.flow_id
     where g.api_key_id = ? and s.prompt_id = ${idColumn} and f.deleted_at is null order by f.name, f.id limit 1))`;
}

/**
 * The path a run by `principal` records, after authorization let it in: none for a signed-in user;
 * ORGANIZATION_WIDE for an organization-wide key; for a SPECIFIC key running a flow, the flow's
 * own grant (the only path to a flow); for a prompt, its direct grant if any, else the first
 * granted flow that runs it (`firstGrant`: the key's first grant covering the prompt, see
 * firstGrantSql). ApiKey.grants counts each grant's runs from these columns (grant-use.ts).
 */
export async function pathForRun(principal: Principal, resource: Resource, firstGrant: (promptId: string) => Promise<string | null>): Promise<RecordedPath> {
  if (principal.kind !== 'apiKey') return NO_PATH;
  if (principal.key.access === 'ORGANIZATION') return { accessVia: 'ORGANIZATION_WIDE', grantedBy: null };
  if (resource.kind === 'flow') return { accessVia: 'DIRECT_GRANT', grantedBy: resource.id };
  const grantedBy = await firstGrant(resource.id);
  // Authorization already let the key in, so a path exists unless a grant went in between.
  if (!grantedBy) return NO_PATH;
  return { accessVia: grantedBy === resource.id ? 'DIRECT_GRANT' : 'FLOW_GRANT', grantedBy };
}
