import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { readDate, sqlDate } from '../../db/dialect.ts';

/**
 * A SPECIFIC key's grants with their use (ApiKey.grants): each run records the grant that let its
 * key in (runs.granted_by, access/paths.ts), so a grant's last use and its runs in a window are two
 * ranges of the runs (api_key_id, granted_by, started_at) index, and a key's whole list is one
 * statement whatever the number of its runs.
 */
export interface GrantUse {
  apiKeyId: string;
  kind: 'prompt' | 'flow';
  /** The granted prompt or flow. */
  resourceId: string;
  grantedAt: Date;
  lastUsedAt: Date | null;
  /** Runs this grant allowed since `since`. */
  runs: number;
  since: Date;
}

/** The default window of ApiKey.grants.runs and of the preview: the last 30 days. */
export const DEFAULT_WINDOW_MS = 30 * 24 * 3600_000;

/** Every grant of the key, prompts then flows, each by id, with its use since `since`. */
export async function grantUses(em: EntityManager, apiKeyId: string, since: Date): Promise<GrantUse[]> {
  const rows = await (em as SqlEntityManager).execute<Record<string, unknown>[]>(
    `select x.kind, x.resource_id, coalesce(x.granted_at, (select k.created_at from api_keys k where k.id = ?)) as granted_at,
       (select max(r.started_at) from runs r where r.api_key_id = ? and r.granted_by = x.resource_id) as last_used_at,
       (select count(*) from runs r where r.api_key_id = ? and r.granted_by = x.resource_id and r.started_at >= ?) as runs
     from (select 'prompt' as kind, g.prompt_id as resource_id, g.granted_at from api_key_prompt_grants g where g.api_key_id = ?
           union all
           select 'flow', g.flow_id, g.granted_at from api_key_flow_grants g where g.api_key_id = ?) x
     order by x.kind desc, x.resource_id`,
    [apiKeyId, apiKeyId, apiKeyId, sqlDate(em, since), apiKeyId, apiKeyId],
  );
  return rows.map((row) => ({
    apiKeyId,
    kind: row.kind as 'prompt' | 'flow',
    resourceId: row.resource_id as string,
    // Grants written without one (before the column, or by a bulk load) count from the key's creation.
    grantedAt: readDate(row.granted_at)!,
    lastUsedAt: readDate(row.last_used_at),
    runs: Number(row.runs),
    since,
  }));
}
