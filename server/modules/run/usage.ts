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
 * The runs of one key in a time window (since inclusive, until exclusive), as SQL: `scoped` is
 * the key's runs, `ranked` their durations in order for the 95th percentile (nearest rank: the
 * smallest duration whose rank is at least 95% of the count), both served by the
 * (api_key_id, started_at) index.
 */
function scopedRuns(em: EntityManager, apiKeyId: string, window: UsageWindow) {
  const conditions = ['api_key_id = ?'];
  const params: unknown[] = [apiKeyId];
  if (window.since) {
    conditions.push('started_at >= ?');
    params.push(sqlDate(em, window.since));
  }
  if (window.until) {
    conditions.push('started_at < ?');
    params.push(sqlDate(em, window.until));
  }
  const sql = `scoped as (
      select kind, status, duration_ms, prompt_tokens, completion_tokens, coalesce(flow_id, prompt_id) as resource_id
      from runs where ${conditions.join(' and ')}
    ),
    ranked as (
      select resource_id, duration_ms,
        row_number() over (partition by resource_id order by duration_ms) as resource_rank,
        count(*) over (partition by resource_id) as resource_count,
        row_number() over (order by duration_ms) as overall_rank,
        count(*) over () as overall_count
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

function toUsage(row: Record<string, unknown> | undefined): Usage {
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    runs: number(row?.runs) ?? 0,
    succeeded: number(row?.succeeded) ?? 0,
    failed: number(row?.failed) ?? 0,
    averageDurationMs: number(row?.average_duration_ms),
    p95DurationMs: number(row?.p95_duration_ms),
    promptTokens: number(row?.prompt_tokens) ?? 0,
    completionTokens: number(row?.completion_tokens) ?? 0,
  };
}

/** Counts, failures, latency and tokens of a key's runs: one SQL statement. */
export async function keyUsage(em: EntityManager, apiKeyId: string, window: UsageWindow): Promise<Usage> {
  const { sql, params } = scopedRuns(em, apiKeyId, window);
  const [row] = await em.getConnection().execute(
    `with ${sql}
     select ${METRICS},
       (select min(duration_ms) from ranked where overall_rank * 100 >= overall_count * 95) as p95_duration_ms
     from scoped s`,
    params,
  );
  return toUsage(row);
}

/** The same figures for each prompt and flow the key ran, most runs first: one SQL statement. */
export async function keyUsageByResource(em: EntityManager, apiKeyId: string, window: UsageWindow): Promise<ResourceUsage[]> {
  const { sql, params } = scopedRuns(em, apiKeyId, window);
  const rows: Record<string, unknown>[] = await em.getConnection().execute(
    `with ${sql},
     p95 as (
       select resource_id, min(duration_ms) as p95_duration_ms
       from ranked where resource_rank * 100 >= resource_count * 95 group by resource_id
     )
     select s.resource_id, s.kind, ${METRICS}, p.p95_duration_ms
     from scoped s left join p95 p on p.resource_id = s.resource_id
     group by s.resource_id, s.kind, p.p95_duration_ms
     order by runs desc, s.resource_id`,
    params,
  );
  return rows.map((row) => ({ ...toUsage(row), kind: row.kind as 'PROMPT' | 'FLOW', resourceId: String(row.resource_id) }));
}
