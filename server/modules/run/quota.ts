import type { EntityManager } from '@mikro-orm/core';
import type { Principal } from '../../auth/principal.ts';
import { sqlDate } from '../../db/dialect.ts';
import { preparedDb, statement } from '../../db/prepared.ts';
import { AppError } from '../../errors.ts';

/**
 * Monthly quotas of a key (calendar month, UTC), counted in one row per key and month
 * (api_key_monthly_usage) for the keys that have a quota. A key without one writes nothing more
 * per run (measured: one commit per run on PostgreSQL); when a quota is set, the row is seeded
 * from the month's runs (seedMonthlyCount), so a quota set mid-month counts the runs already made.
 * quotaUsage reads the runs themselves, so it is right for every key.
 *
 * - Runs: a run is counted before it starts by ONE conditional upsert that adds it only while the
 *   key is under both quotas. The row is the lock: concurrent runs on any number of replicas are
 *   serialized on it (PostgreSQL's row lock of ON CONFLICT DO UPDATE; SQLite's write lock), so 50
 *   runs at once against a quota of 10 start exactly 10. A refused run changes nothing.
 * - Tokens: known only when a run finishes, then added. A run is refused once the tokens reach the
 *   quota, so one run may pass it by its own tokens (and runs already started when it is reached,
 *   by theirs).
 */

export type QuotaThreshold = 80 | 100;

/**
 * The seam for warnings (API_KEY_QUOTA_WARNING): the highest threshold a count crossed going from
 * `before` to `after` against `quota`, or undefined. Each threshold is crossed by exactly one run,
 * since counts only grow within a month.
 */
export function quotaThresholdCrossed(quota: number | null, before: number, after: number): QuotaThreshold | undefined {
  if (quota == null || quota <= 0) return undefined;
  for (const threshold of [100, 80] as const) {
    const at = (quota * threshold) / 100;
    if (before < at && after >= at) return threshold;
  }
  return undefined;
}

/** `YYYY-MM` of `now` in UTC: the row a run counts in. */
export function monthOf(now: Date): string {
  return now.toISOString().slice(0, 7);
}

/** When the month of `now` ends (UTC): quotas start again from zero. */
export function monthEnd(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

// The unlimited side of a comparison: far above any count (bigint on both stores).
const NO_QUOTA = Number.MAX_SAFE_INTEGER;

const COUNT_RUN = statement(
  'count_run_in_quota',
  `insert into api_key_monthly_usage (api_key_id, month, runs, tokens) values (?, ?, 1, 0)
   on conflict (api_key_id, month) do update set runs = api_key_monthly_usage.runs + 1
   where api_key_monthly_usage.runs < cast(? as bigint) and api_key_monthly_usage.tokens < cast(? as bigint)
   returning runs, tokens`,
);
const ADD_TOKENS = statement(
  'add_run_tokens',
  'update api_key_monthly_usage set tokens = tokens + ? where api_key_id = ? and month = ? returning tokens',
);
const READ_USAGE = statement('read_monthly_usage', 'select runs, tokens from api_key_monthly_usage where api_key_id = ? and month = ?');

/** A run counted against its key's month; what finishRun needs to add its tokens. */
export interface QuotaReservation {
  apiKeyId: string;
  month: string;
  monthlyTokenQuota: number | null;
  /** The run threshold this run crossed, for the warning seam. */
  runThreshold?: QuotaThreshold;
}

function exhausted(principal: Extract<Principal, { kind: 'apiKey' }>, which: 'runs' | 'tokens', quota: number, now: Date): AppError {
  const resetsAt = monthEnd(now);
  const retryAfterSeconds = Math.max(1, Math.ceil((resetsAt.getTime() - now.getTime()) / 1000));
  return new AppError(
    'RATE_LIMITED',
    `API key ${principal.apiKeyId} has used its monthly ${which === 'runs' ? 'run' : 'token'} quota (${quota}); it resets at ${resetsAt.toISOString()}`,
    { reason: 'QUOTA_EXHAUSTED', quota: which === 'runs' ? 'MONTHLY_RUNS' : 'MONTHLY_TOKENS', retryAfterSeconds, resetsAt: resetsAt.toISOString() },
  );
}

/**
 * Counts a run of a key against its month before the run starts; throws RATE_LIMITED
 * (QUOTA_EXHAUSTED, retryAfterSeconds until the month ends) when a quota is used up, having
 * changed nothing. Runs of signed-in users count against no quota: undefined.
 */
export async function reserveRun(em: EntityManager, principal: Principal, now: Date): Promise<QuotaReservation | undefined> {
  if (principal.kind !== 'apiKey') return undefined;
  const { monthlyRunQuota, monthlyTokenQuota } = principal.limits;
  if (monthlyRunQuota == null && monthlyTokenQuota == null) return undefined;
  if (monthlyRunQuota === 0) throw exhausted(principal, 'runs', 0, now);
  if (monthlyTokenQuota === 0) throw exhausted(principal, 'tokens', 0, now);
  const month = monthOf(now);
  const db = await preparedDb(em);
  const counted = await db.get(COUNT_RUN, [principal.apiKeyId, month, monthlyRunQuota ?? NO_QUOTA, monthlyTokenQuota ?? NO_QUOTA]);
  if (!counted) {
    const usage = await db.get(READ_USAGE, [principal.apiKeyId, month]);
    const runsUsed = monthlyRunQuota != null && Number(usage?.runs ?? 0) >= monthlyRunQuota;
    throw runsUsed ? exhausted(principal, 'runs', monthlyRunQuota!, now) : exhausted(principal, 'tokens', monthlyTokenQuota!, now);
  }
  const runs = Number(counted.runs);
  return { apiKeyId: principal.apiKeyId, month, monthlyTokenQuota, runThreshold: quotaThresholdCrossed(monthlyRunQuota, runs - 1, runs) };
}

/** Adds a finished run's tokens to its month; returns the token threshold it crossed, if any. */
export async function addRunTokens(em: EntityManager, reservation: QuotaReservation, tokens: number): Promise<QuotaThreshold | undefined> {
  if (tokens <= 0) return undefined;
  const row = await (await preparedDb(em)).get(ADD_TOKENS, [tokens, reservation.apiKeyId, reservation.month]);
  if (!row) return undefined;
  const after = Number(row.tokens);
  return quotaThresholdCrossed(reservation.monthlyTokenQuota, after - tokens, after);
}

/** When the month of `now` began (UTC). */
export function monthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * Sets a key's count for the month to its runs so far (the runs table is the truth): called in
 * the transaction that gives a key a quota it did not have, so the quota counts from the start of
 * the month, not from the moment it was set.
 */
export async function seedMonthlyCount(tx: EntityManager, apiKeyId: string, now: Date): Promise<void> {
  // `where` before `on conflict`: SQLite needs it to read an INSERT … SELECT with an upsert clause.
  await tx.getConnection().execute(
    `insert into api_key_monthly_usage (api_key_id, month, runs, tokens)
     select ?, ?, count(*), coalesce(sum(prompt_tokens + completion_tokens), 0) from runs where api_key_id = ? and started_at >= ?
     on conflict (api_key_id, month) do update set runs = excluded.runs, tokens = excluded.tokens`,
    [apiKeyId, monthOf(now), apiKeyId, sqlDate(tx, monthStart(now))],
    'run',
    tx.getTransactionContext(),
  );
}

/**
 * What keys ran this month, for ApiKey.quotaUsage: one grouped read of their runs for a page of
 * keys, on the (api_key_id, started_at) index.
 */
export async function monthlyUsage(em: EntityManager, apiKeyIds: readonly string[], now: Date): Promise<Map<string, { runs: number; tokens: number }>> {
  const rows: { api_key_id: string; runs: number | string; tokens: number | string }[] = await em.getConnection().execute(
    `select api_key_id, count(*) as runs, coalesce(sum(prompt_tokens + completion_tokens), 0) as tokens from runs
     where api_key_id in (${apiKeyIds.map(() => '?').join(', ')}) and started_at >= ? group by api_key_id`,
    [...apiKeyIds, sqlDate(em, monthStart(now))],
  );
  return new Map(rows.map((row) => [row.api_key_id, { runs: Number(row.runs), tokens: Number(row.tokens) }]));
}
