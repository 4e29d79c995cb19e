import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Principal } from '../../auth/principal.ts';
import { readDate, sqlDate } from '../../db/dialect.ts';
import type { ApiKeyAccess } from '../api-key/api-key.entity.ts';
import { getApiKeyForUpdate, keyFacts, updateApiKeyPermissions } from '../api-key/api-key.service.ts';
import { runnableIds } from './runnable.ts';
import { decideFromGrant, grantedSql, type KeyFacts } from './rule.ts';

/**
 * What updateApiKeyPermissions with the same input would do, changing nothing (DESIGN.md rule 11):
 * the preview makes the change itself, in a transaction of its own that it always rolls back, and
 * reads the effect before rolling back. So the change is validated by the mutation's own checks
 * (same errors), and its effect is computed by the same rule and the same index maintenance as the
 * real change, never by a second implementation. Audit rows, index rows and cache notices written
 * inside go with the rollback.
 */
export interface PermissionPreview {
  apiKeyId: string;
  gainedPromptIds: string[];
  gainedFlowIds: string[];
  lostPromptIds: string[];
  lostFlowIds: string[];
  wouldRefuse: ResourceImpact[];
  refusedRuns: number;
}

export interface ResourceImpact {
  kind: 'prompt' | 'flow';
  resourceId: string;
  runs: number;
  endUsers: number;
  lastRunAt: Date;
}

export interface PermissionsInput {
  apiKeyId: string;
  access: ApiKeyAccess;
  promptIds?: readonly string[] | null;
  flowIds?: readonly string[] | null;
}

/** Thrown to end the preview's transaction: what it found is kept, what it wrote is not. */
class RollBack extends Error {}

export async function previewApiKeyPermissions(em: EntityManager, actor: Principal, input: PermissionsInput, since: Date, now: Date): Promise<PermissionPreview> {
  // A fork of its own: the change it makes to the key's entity never reaches the request's.
  const fork = em.fork({ clear: true });
  let preview: PermissionPreview | undefined;
  try {
    await fork.transactional(async (tx) => {
      // The mutation takes the same lock: the before and after are of one moment.
      const before = keyFacts(await getApiKeyForUpdate(tx, input.apiKeyId));
      const reachedBefore = await runnableIds(tx, before, now);
      const after = keyFacts(await updateApiKeyPermissions(tx, actor, input));
      const reachedAfter = await runnableIds(tx, after, now);
      const wouldRefuse = await refusedByRule(tx, after, since, now);
      preview = {
        apiKeyId: input.apiKeyId,
        gainedPromptIds: difference(reachedAfter.promptIds, reachedBefore.promptIds),
        gainedFlowIds: difference(reachedAfter.flowIds, reachedBefore.flowIds),
        lostPromptIds: difference(reachedBefore.promptIds, reachedAfter.promptIds),
        lostFlowIds: difference(reachedBefore.flowIds, reachedAfter.flowIds),
        wouldRefuse,
        refusedRuns: wouldRefuse.reduce((sum, impact) => sum + impact.runs, 0),
      };
      throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  return preview!;
}

function difference(from: Set<string>, without: Set<string>): string[] {
  return [...from].filter((id) => !without.has(id));
}

/**
 * The key's runs since `since`, by prompt or flow (live ones: a deleted one is refused as not found
 * whatever the grants), that the rule refuses for `key` as its grants now stand in `em`'s
 * transaction, most runs first. One statement reads the runs and each resource's grant bit.
 */
async function refusedByRule(em: EntityManager, key: KeyFacts, since: Date, now: Date): Promise<ResourceImpact[]> {
  const rows = await (em as SqlEntityManager).execute<Record<string, unknown>[]>(
    `select x.kind, x.prompt_id, x.flow_id, x.runs, x.end_users, x.last_run_at,
       case when x.kind = 'PROMPT'
         then case when ${grantedSql('prompt', 'x.prompt_id')} then 1 else 0 end
         else case when ${grantedSql('flow', 'x.flow_id')} then 1 else 0 end
       end as granted
     from (select r.kind, r.prompt_id, r.flow_id, count(*) as runs, count(distinct r.end_user_id) as end_users, max(r.started_at) as last_run_at
           from runs r where r.api_key_id = ? and r.started_at >= ?
           group by r.kind, r.prompt_id, r.flow_id) x
     left join prompts p on p.id = x.prompt_id
     left join flows f on f.id = x.flow_id
     where (x.kind = 'PROMPT' and p.deleted_at is null and p.id is not null) or (x.kind = 'FLOW' and f.deleted_at is null and f.id is not null)`,
    [key.id, key.id, key.id, key.id, sqlDate(em, since)],
  );
  const impacts: ResourceImpact[] = [];
  for (const row of rows) {
    const kind = row.kind === 'PROMPT' ? 'prompt' : 'flow';
    const resourceId = (kind === 'prompt' ? row.prompt_id : row.flow_id) as string;
    const resource = { kind, id: resourceId, organizationId: key.organizationId } as const;
    if (decideFromGrant(key, resource, now, Number(row.granted) === 1).allowed) continue;
    impacts.push({ kind, resourceId, runs: Number(row.runs), endUsers: Number(row.end_users), lastRunAt: readDate(row.last_run_at)! });
  }
  return impacts.sort((a, b) => b.runs - a.runs || b.lastRunAt.getTime() - a.lastRunAt.getTime() || (a.resourceId < b.resourceId ? -1 : 1));
}
