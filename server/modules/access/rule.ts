import type { EntityManager } from '@mikro-orm/core';
import type { KeyFacts } from '../../auth/principal.ts';
import type { Resource } from '../../authz/permissions.ts';
import { sqlDate } from '../../db/dialect.ts';
import { limitClause } from '../../db/prepared.ts';
import { MAX_PAGE_SIZE } from '../../graphql/query-cost.ts';
import { nameLike } from '../../graphql/search.ts';

/**
 * THE access rule (DESIGN.md rule 2), in one place. A key K may run a prompt or flow R if and only
 * if K is active (not revoked, not past expiresAt at the moment of the request), R belongs to K's
 * organization, and K's access is ORGANIZATION or R is granted to K. A flow grant covers the
 * prompts the flow runs as its steps; a prompt grant does not cover flows that contain it.
 *
 * `decideAccess` answers for one key and one resource; `availableKeysQuery` is the same rule as
 * one SQL statement over all the keys of an organization (available-keys.ts pages it, and
 * access.schema.ts is the rule's GraphQL face). A property test holds them (and an independent
 * oracle) in agreement.
 */
export type AccessReason = 'ORGANIZATION_WIDE' | 'GRANTED' | 'NOT_GRANTED' | 'KEY_REVOKED' | 'KEY_EXPIRED';
export type KeyStatus = 'ACTIVE' | 'EXPIRED' | 'REVOKED';
export type { KeyFacts, Resource };

export interface AccessDecision {
  allowed: boolean;
  reason: AccessReason;
}

export function keyStatus(key: Pick<KeyFacts, 'expiresAt' | 'revokedAt'>, now: Date): KeyStatus {
  if (key.revokedAt) return 'REVOKED';
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return 'ACTIVE';
}

/** Whether a SPECIFIC key holds a grant covering the resource: one indexed query. */
export async function isGranted(em: EntityManager, apiKeyId: string, resource: Resource): Promise<boolean> {
  const connection = em.getConnection();
  const rows =
    resource.kind === 'flow'
      ? await connection.execute('select 1 as granted from api_key_flow_grants where api_key_id = ? and flow_id = ?', [apiKeyId, resource.id])
      : await connection.execute(
          `select 1 as granted from api_key_prompt_grants where api_key_id = ? and prompt_id = ?
           union all
           select 1 from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id
           where g.api_key_id = ? and s.prompt_id = ?`,
          [apiKeyId, resource.id, apiKeyId, resource.id],
        );
  return rows.length > 0;
}

/**
 * The decision for one key and one resource of the key's organization. (A resource of another
 * organization never reaches here: callers answer NOT_FOUND for it, as for any unseen id.)
 */
export async function decideAccess(em: EntityManager, key: KeyFacts, resource: Resource, now: Date): Promise<AccessDecision> {
  return decideWithoutGrants(key, resource, now) ?? decideFromGrant(key, resource, now, await isGranted(em, key.id, resource));
}

/** The decision when the key's facts alone settle it; undefined when a SPECIFIC key's grants must. */
function decideWithoutGrants(key: KeyFacts, resource: Resource, now: Date): AccessDecision | undefined {
  const status = keyStatus(key, now);
  if (status === 'REVOKED') return { allowed: false, reason: 'KEY_REVOKED' };
  if (status === 'EXPIRED') return { allowed: false, reason: 'KEY_EXPIRED' };
  if (resource.organizationId !== key.organizationId) return { allowed: false, reason: 'NOT_GRANTED' };
  if (key.access === 'ORGANIZATION') return { allowed: true, reason: 'ORGANIZATION_WIDE' };
  return undefined;
}

/**
 * The same decision with `granted` (whether a grant covers the resource) already read, as
 * key-path.ts reads it together with the resource's row.
 */
export function decideFromGrant(key: KeyFacts, resource: Resource, now: Date, granted: boolean): AccessDecision {
  return decideWithoutGrants(key, resource, now) ?? (granted ? { allowed: true, reason: 'GRANTED' } : { allowed: false, reason: 'NOT_GRANTED' });
}

/**
 * The grant test of `isGranted` as an SQL expression over a resource id held by `idColumn`, for
 * statements that read rows and the decision together (key-path.ts; the preview's runs, preview.ts).
 * Parameters: the key id (twice for a prompt, once for a flow).
 */
export function grantedSql(kind: Resource['kind'], idColumn: string): string {
  return kind === 'prompt'
    ? `(exists (select 1 from api_key_prompt_grants g where g.api_key_id = ? and g.prompt_id = ${idColumn})
    or exists (select 1 from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id where g.api_key_id = ? and s.prompt_id = ${idColumn}))`
    : `(exists (select 1 from api_key_flow_grants g where g.api_key_id = ? and g.flow_id = ${idColumn}))`;
}

/** `grantedSql` over a resource row aliased `r`. */
export const GRANTED_SQL = { prompt: grantedSql('prompt', 'r.id'), flow: grantedSql('flow', 'r.id') } as const;

/**
 * The rule as one SQL statement: the ids of every key that may run `resource` now, ordered by
 * (name, id), after the keyset cursor if any, at most `limit` of them, each row also carrying the
 * total count. The eligible set is the union of three index lookups (organization-wide keys,
 * direct grants, grants of flows that run the prompt), so its cost follows the number of
 * matching keys, not the number of keys in the organization.
 */
export function availableKeysQuery(
  em: EntityManager,
  resource: Resource,
  now: Date,
  /** `columns`: the select list of the page's keys, alias k (what the query's fields need); all by default. */
  page: { limit: number; after?: { name: string; id: string }; namePattern?: string | null; columns?: string },
): { sql: string; params: unknown[] } {
  const at = sqlDate(em, now);
  const active = 'k.revoked_at is null and (k.expires_at is null or k.expires_at > ?)';
  const branches = [
    `select k.id, k.name, k.expires_at from api_keys k where k.organization_id = ? and k.access = 'ORGANIZATION' and ${active}`,
  ];
  const params: unknown[] = [resource.organizationId, at];
  // Each grant branch starts from the grants of the resource. `cross join` (an inner join whose
  // where clause joins the tables) pins that order on SQLite, which keeps no statistics unless
  // ANALYZE runs and would otherwise start from every SPECIFIC key of the organization and probe
  // their grants one by one (bench/README.md measured 10 ms against 0.6 ms for a rare prompt).
  // PostgreSQL reorders cross joins by cost, as it does inner joins.
  if (resource.kind === 'prompt') {
    branches.push(
      `select k.id, k.name, k.expires_at from api_key_prompt_grants g cross join api_keys k
       where k.id = g.api_key_id and g.prompt_id = ? and k.organization_id = ? and k.access = 'SPECIFIC' and ${active}`,
      `select k.id, k.name, k.expires_at from flow_steps s cross join api_key_flow_grants g cross join api_keys k
       where g.flow_id = s.flow_id and k.id = g.api_key_id and s.prompt_id = ? and k.organization_id = ? and k.access = 'SPECIFIC' and ${active}`,
    );
    params.push(resource.id, resource.organizationId, at, resource.id, resource.organizationId, at);
  } else {
    branches.push(
      `select k.id, k.name, k.expires_at from api_key_flow_grants g cross join api_keys k
       where k.id = g.api_key_id and g.flow_id = ? and k.organization_id = ? and k.access = 'SPECIFIC' and ${active}`,
    );
    params.push(resource.id, resource.organizationId, at);
  }
  // A search narrows the eligible keys, so the page and the count both follow it.
  let eligible = branches.join(' union ');
  if (page.namePattern) {
    eligible = `select u.id, u.name, u.expires_at from (${eligible}) u where ${nameLike('u.name')}`;
    params.push(page.namePattern);
  }
  const keyset = page.after ? 'where e.name > ? or (e.name = ? and e.id > ?)' : '';
  if (page.after) params.push(page.after.name, page.after.name, page.after.id);
  // The count rides along in the same statement, and the next expiry among the eligible keys (until
  // then only a change alters the answer: available-keys.ts keeps it); the left joins keep both
  // when the page is empty.
  const sql = `with eligible as (${eligible}),
    page as (select e.id, e.name from eligible e ${keyset} order by e.name, e.id ${limitClause(page.limit, MAX_PAGE_SIZE + 1)})
    select ${page.columns ?? 'k.*'}, c.total_count, c.next_expiry
    from (select count(*) as total_count, min(expires_at) as next_expiry from eligible) c
    left join page p on 1 = 1
    left join api_keys k on k.id = p.id
    order by p.name, p.id`;
  return { sql, params };
}

