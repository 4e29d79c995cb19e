import type { EntityManager } from '@mikro-orm/core';
import { isPostgres, sqlDate } from '../../db/dialect.ts';
import { badInput } from '../../errors.ts';
import { NO_USAGE, type Usage } from './usage.ts';

/** A key's usage on one UTC day. */
export interface DailyUsage {
  /** The UTC date, YYYY-MM-DD. */
  day: string;
  usage: Usage;
}

export interface DailyWindow {
  days: number;
  /** The window's last day is this moment's UTC day. */
  lastDayOf: Date;
  /**
   * Runs started at or after it are left out; none given (until: null), every run of the last day
   * counts. An exclusive `now` would leave out a run started in the very millisecond of the query.
   */
  until: Date | null;
}

/** A window of a few months at most: a series is drawn, not exported (usageByResource sums). */
export const MAX_DAYS = 90;
const DAY_MS = 86_400_000;

/** Checks `days` (BAD_USER_INPUT outside 1..MAX_DAYS); `until` defaults to now. */
export function dailyWindow(days: number | null | undefined, until: Date | null | undefined, now: Date): DailyWindow {
  const count = days ?? 14;
  if (!Number.isInteger(count) || count < 1 || count > MAX_DAYS) throw badInput('days', `must be between 1 and ${MAX_DAYS}`);
  return { days: count, lastDayOf: until ?? now, until: until ?? null };
}

/** The UTC day numbers (days since 1970-01-01) of the window, oldest first. */
function dayNumbers(window: DailyWindow): number[] {
  const last = Math.floor(window.lastDayOf.getTime() / DAY_MS);
  return Array.from({ length: window.days }, (_, i) => last - window.days + 1 + i);
}

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * The day number of a run, in SQL: SQLite keeps datetimes as epoch milliseconds, PostgreSQL as
 * timestamptz (whose epoch is in UTC whatever the session's time zone).
 */
function dayOf(em: EntityManager, column: string): string {
  return isPostgres(em) ? `floor(extract(epoch from ${column}) / 86400)` : `(${column} / ${DAY_MS})`;
}

/**
 * Each key's runs per UTC day over the window, every day present (zeros included): ONE grouped
 * statement for every key of a page, served by the (api_key_id, started_at) index. p95 is the
 * nearest rank, as ApiKey.usage's.
 */
export async function dailyUsageOfKeys(em: EntityManager, apiKeyIds: readonly string[], window: DailyWindow): Promise<DailyUsage[][]> {
  const days = dayNumbers(window);
  const since = new Date(days[0]! * DAY_MS);
  const before = window.until ?? new Date((days.at(-1)! + 1) * DAY_MS);
  const rows: Record<string, unknown>[] = await em.getConnection().execute(
    `with scoped as (
       select api_key_id, status, duration_ms, prompt_tokens, completion_tokens, ${dayOf(em, 'started_at')} as day
       from runs where api_key_id in (${apiKeyIds.map(() => '?').join(', ')}) and started_at >= ? and started_at < ?
     ),
     ranked as (
       select api_key_id, day, duration_ms,
         row_number() over (partition by api_key_id, day order by duration_ms) as day_rank,
         count(*) over (partition by api_key_id, day) as day_count
       from scoped where duration_ms is not null
     ),
     p95 as (select api_key_id, day, min(duration_ms) as p95_duration_ms from ranked where day_rank * 100 >= day_count * 95 group by api_key_id, day)
     select s.api_key_id, s.day, count(*) as runs,
       sum(case when s.status = 'SUCCEEDED' then 1 else 0 end) as succeeded,
       sum(case when s.status = 'FAILED' then 1 else 0 end) as failed,
       avg(s.duration_ms) as average_duration_ms,
       coalesce(sum(s.prompt_tokens), 0) as prompt_tokens,
       coalesce(sum(s.completion_tokens), 0) as completion_tokens,
       p.p95_duration_ms
     from scoped s left join p95 p on p.api_key_id = s.api_key_id and p.day = s.day
     group by s.api_key_id, s.day, p.p95_duration_ms`,
    [...apiKeyIds, sqlDate(em, since), sqlDate(em, before)],
  );
  const found = new Map<string, Usage>();
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  for (const row of rows) {
    found.set(`${String(row.api_key_id)} ${Number(row.day)}`, {
      runs: number(row.runs) ?? 0,
      succeeded: number(row.succeeded) ?? 0,
      failed: number(row.failed) ?? 0,
      averageDurationMs: number(row.average_duration_ms),
      p95DurationMs: number(row.p95_duration_ms),
      promptTokens: number(row.prompt_tokens) ?? 0,
      completionTokens: number(row.completion_tokens) ?? 0,
    });
  }
  return apiKeyIds.map((keyId) => days.map((day) => ({ day: isoDay(day), usage: found.get(`${keyId} ${day}`) ?? NO_USAGE })));
}
