import type { EntityManager } from '@mikro-orm/core';
import { sqlDate } from '../../db/dialect.ts';

export interface Usage {
  runs: number;
  succeeded: number;
  failed: number;
  averageDurationMs: number | null;
  p95DurationMs: number | null;
  promptTokens: number;
  completionTokens: number;
}

export interface ResourceUsage extends Usage {
  kind: 'PROMPT' | 'FLOW';
  /** The prompt or flow the runs ran. */
  resourceId: string;
}

export interface UsageWindow {
  since?: Date | null;
  until?: Date | null;
}

/**
 * The runs of some keys in a time window (since inclusive, until exclusive), as SQL: `scoped` is
 * their runs, `ranked` the durations in order for the 95th percentile (nearest rank: the smallest
 * duration whose rank is at least 95% of the count), per key and per key and resource. Served by
 * the (api_key_id, started_at) index. One statement answers for every key of a page.
 */
function scopedRuns(em: EntityManager, apiKeyIds: readonly string[], window: UsageWindow) {
  const conditions = [`api_key_id in (${apiKeyIds.map(() => '?').join(', ')})`];
  const params: unknown[] = [...apiKeyIds];
  if (window.since) {
    conditions.push('started_at >= ?');
    params.push(sqlDate(em, window.since));
  }
  if (window.until) {
    conditions.push('started_at < ?');
    params.push(sqlDate(em, window.until));
  }
  const sql = `scoped as (
      select api_key_id, kind, status, duration_ms, prompt_tokens, completion_tokens, coalesce(flow_id, prompt_id) as resource_id
      from runs where ${conditions.join(' and ')}
    ),
    ranked as (
      select api_key_id, resource_id, duration_ms,
        row_number() over (partition by api_key_id, resource_id order by duration_ms) as resource_rank,
        count(*) over (partition by api_key_id, resource_id) as resource_count,
        row_number() over (partition by api_key_id order by duration_ms) as key_rank,
        count(*) over (partition by api_key_id) as key_count
      from scoped where duration_ms is not null
    )`;
  return { sql, params };
}

const METRICS = `count(*) as runs,
  sum(case when s.status = 'SUCCEEDED' then 1 else 0 end) as succeeded,
  sum(case when s.status = 'FAILED' then 1 else 0 end) as failed,
  avg(s.duration_ms) as average_duration_ms,
  coalesce(sum(s.prompt_tokens), 0) as prompt_tokens,
  coalesce(sum(s.completion_tokens), 0) as completion_tokens`;

export const NO_USAGE: Usage = {
  runs: 0,
  succeeded: 0,
  failed: 0,
  averageDurationMs: null,
  p95DurationMs: null,
  promptTokens: 0,
  completionTokens: 0,
};

function toUsage(row: Record<string, unknown>): Usage {
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    runs: number(row.runs) ?? 0,
    succeeded: number(row.succeeded) ?? 0,
    failed: number(row.failed) ?? 0,
    averageDurationMs: number(row.average_duration_ms),
    p95DurationMs: number(row.p95_duration_ms),
    promptTokens: number(row.prompt_tokens) ?? 0,
    completionTokens: number(row.completion_tokens) ?? 0,
  };
}

/** Counts, failures, latency and tokens of each key's runs: one SQL statement for all the keys. */
export async function usageOfKeys(em: EntityManager, apiKeyIds: readonly string[], window: UsageWindow): Promise<Map<string, Usage>> {
  const { sql, params } = scopedRuns(em, apiKeyIds, window);
  const rows: Record<string, unknown>[] = await em.getConnection().execute(
    `with ${sql},
     p95 as (select api_key_id, min(duration_ms) as p95_duration_ms from ranked where key_rank * 100 >= key_count * 95 group by api_key_id)
     select s.api_key_id, ${METRICS}, p.p95_duration_ms
     from scoped s left join p95 p on p.api_key_id = s.api_key_id
     group by s.api_key_id, p.p95_duration_ms`,
    params,
  );
  return new Map(rows.map((row) => [String(row.api_key_id), toUsage(row)]));
}

/** The same figures per prompt and flow each key ran, most runs first: one SQL statement. */
export async function usageByResourceOfKeys(
  em: EntityManager,
  apiKeyIds: readonly string[],
  window: UsageWindow,
): Promise<Map<string, ResourceUsage[]>> {
  const { sql, params } = scopedRuns(em, apiKeyIds, window);
  const rows: Record<string, unknown>[] = await em.getConnection().execute(
    `with ${sql},
     p95 as (
       select api_key_id, resource_id, min(duration_ms) as p95_duration_ms
       from ranked where resource_rank * 100 >= resource_count * 95 group by api_key_id, resource_id
     )
     select s.api_key_id, s.resource_id, s.kind, ${METRICS}, p.p95_duration_ms
     from scoped s left join p95 p on p.api_key_id = s.api_key_id and p.resource_id = s.resource_id
     group by s.api_key_id, s.resource_id, s.kind, p.p95_duration_ms
     order by runs desc, s.resource_id`,
    params,
  );
  const byKey = new Map<string, ResourceUsage[]>();
  for (const row of rows) {
    const usage = { ...toUsage(row), kind: row.kind as 'PROMPT' | 'FLOW', resourceId: String(row.resource_id) };
    const list = byKey.get(String(row.api_key_id));
    if (list) list.push(usage);
    else byKey.set(String(row.api_key_id), [usage]);
  }
  return byKey;
}
