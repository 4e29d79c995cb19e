import type { AbstractSqlConnection, Knex } from '@mikro-orm/knex';
import { isPostgres } from '../server/db/dialect.ts';
import type { Orm } from '../server/db/orm.ts';

/**
 * SQL as the server really sends it. MikroORM's `connection.execute(sql, params)` inlines the
 * parameters into the statement text itself before handing it to knex, so the statement seen by
 * knex's 'query' event is exactly what the database runs: it can be counted, and explained as is.
 */
export interface CapturedQuery {
  sql: string;
}

function knexOf(orm: Orm): Knex {
  return (orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex();
}

/** Counts the statements sent while `fn` runs (nothing else may run meanwhile). */
export async function captureQueries<T>(orm: Orm, fn: () => Promise<T>): Promise<{ result: T; queries: CapturedQuery[] }> {
  const queries: CapturedQuery[] = [];
  const listener = (query: { sql: string }) => queries.push({ sql: query.sql });
  const knex = knexOf(orm);
  knex.on('query', listener);
  try {
    return { result: await fn(), queries };
  } finally {
    knex.removeListener('query', listener);
  }
}

export interface Plan {
  title: string;
  sql: string;
  lines: string[];
  /** Full scans of a table (SQLite "SCAN t" without an index, PostgreSQL "Seq Scan"), to point them out. */
  fullScans: string[];
  /** Indexes the plan uses. */
  indexes: string[];
}

/**
 * The plan of one statement: EXPLAIN QUERY PLAN on SQLite (the plan only), EXPLAIN (ANALYZE,
 * BUFFERS) on PostgreSQL (the plan as run, with row counts and timings).
 */
export async function explain(orm: Orm, title: string, sql: string): Promise<Plan> {
  const em = orm.em.fork();
  const connection = em.getConnection();
  let lines: string[];
  if (isPostgres(em)) {
    const rows: { 'QUERY PLAN': string }[] = await connection.execute(`explain (analyze, buffers) ${sql}`);
    lines = rows.map((row) => row['QUERY PLAN']);
  } else {
    const rows: { id: number; parent: number; detail: string }[] = await connection.execute(`explain query plan ${sql}`);
    const depth = new Map<number, number>([[0, -1]]);
    lines = rows.map((row) => {
      const d = (depth.get(row.parent) ?? -1) + 1;
      depth.set(row.id, d);
      return `${'  '.repeat(d)}${row.detail}`;
    });
  }
  const fullScans = lines.map((line) => line.trim()).filter((line) => isFullScan(line, sql));
  const indexes = [...new Set(lines.flatMap((line) => [...line.matchAll(/(?:USING (?:COVERING |PRIMARY KEY)?\s*INDEX |Index (?:Only )?Scan (?:Backward )?using )(\w+)/g)].map((m) => m[1]!)))];
  return { title, sql, lines, fullScans, indexes };
}

const TABLE = /^(organizations|users|sessions|memberships|prompts|flows|flow_steps|api_keys|api_key_secrets|api_key_prompt_grants|api_key_flow_grants|runs|run_steps|audit_events)$/;

/** The aliases the statement gives to real tables (not to its CTEs or subqueries). */
function tableAliases(sql: string): Set<string> {
  const aliases = new Set<string>();
  for (const m of sql.matchAll(/\b(?:from|join)\s+[`"]?(\w+)[`"]?(?:\s+(?:as\s+)?[`"]?(\w+)[`"]?)?/gi)) {
    if (!TABLE.test(m[1]!)) continue;
    aliases.add(m[1]!);
    if (m[2] && !/^(on|where|join|left|inner|order|group|limit|union)$/i.test(m[2])) aliases.add(m[2]);
  }
  return aliases;
}

/**
 * Whether a plan line reads a whole table: PostgreSQL's Seq Scan, or SQLite's "SCAN t" of a real
 * table without an index ("SCAN t USING INDEX i" walks a whole index: reported as well).
 */
function isFullScan(line: string, sql: string): boolean {
  if (/^(->\s*)?(Parallel )?Seq Scan on /.test(line)) return true;
  const m = /^SCAN (\w+)/.exec(line);
  return !!m && tableAliases(sql).has(m[1]!) && !/USING (INTEGER )?PRIMARY KEY/.test(line);
}

/** A statement reflowed for reading: one clause a line is enough. */
export function tidySql(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim();
}
