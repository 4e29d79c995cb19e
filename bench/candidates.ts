/**
 * Measures the SQL proposed in bench/DESIGN-hot-path.md against what the server sends today, on
 * the seeded benchmark database, with the drivers used directly: better-sqlite3 statements
 * prepared once, and node-postgres named prepared statements. Nothing here is used by the server;
 * it backs the proposal with figures.
 *
 *   node --import tsx bench/candidates.ts                       # SQLite and PostgreSQL
 *   BENCH_STORES=sqlite BENCH_SCALE=large node --import tsx bench/candidates.ts
 *
 * It checks that every candidate answers as the current statement does (same page, same total,
 * same decision) before timing it. The proposal's tables are named candidate_access* so that they
 * sit beside the access index the migrations now create (key_access*), which has another shape.
 */
import { createRequire } from 'node:module';
import { hashCredential } from '../server/auth/credentials.ts';
import { availableKeysQuery } from '../server/modules/access/rule.ts';
import { createLogger, type Logger } from '../server/logger.ts';
import { createApp } from '../server/yoga.ts';
import { openBenchDatabase } from './db.ts';
import { captureQueries } from './sql.ts';
import { quantile } from './measure.ts';
import { DEFAULT_SEED, SEED_SCALES, seedBenchData } from './seed.ts';
import { postgresUrlSetting, storesSetting } from './settings.ts';

// The drivers the ORM already installed, used directly; they ship no types here, so only what is used is declared.
interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  pragma(sql: string): unknown;
  transaction<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R;
  close(): void;
}
interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}
interface PgClient {
  connect(): Promise<void>;
  query(sql: string | { name?: string; text: string; values?: unknown[] }, values?: unknown[]): Promise<PgResult>;
  on(event: 'notification', listener: () => void): void;
  end(): Promise<void>;
}
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as new (path: string) => SqliteDatabase;
const pg = require('pg') as { Client: new (options: { connectionString: string }) => PgClient };

const scale = process.env.BENCH_SCALE || 'default';
if (!SEED_SCALES[scale]) throw new Error(`BENCH_SCALE must be one of ${Object.keys(SEED_SCALES).join(', ')}`);
const stores = storesSetting('sqlite,postgres');
const ITERATIONS = Number(process.env.BENCH_ITERATIONS || 2000);
const postgresUrl = postgresUrlSetting();

interface Timing {
  name: string;
  n: number;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  /** CPU time of this process per call (user + system): steadier than latency on a busy machine. */
  cpuUs: number;
}
const timings: { store: string; rows: Timing[] }[] = [];

/** Times fn one call at a time: 10% warm-up (at most 1 s), then up to ITERATIONS calls within 4 s. */
async function time(rows: Timing[], name: string, fn: () => unknown): Promise<void> {
  const warm = performance.now() + 1000;
  for (let i = 0; i < ITERATIONS / 10 && performance.now() < warm; i++) await fn();
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const deadline = performance.now() + 4000;
  while (latencies.length < ITERATIONS && performance.now() < deadline) {
    const start = performance.now();
    await fn();
    latencies.push(performance.now() - start);
  }
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const row = {
    cpuUs: (used.user + used.system) / latencies.length,
    name,
    n: latencies.length,
    meanUs: (1000 * latencies.reduce((a, b) => a + b, 0)) / latencies.length,
    p50Us: 1000 * quantile(latencies, 0.5),
    p99Us: 1000 * quantile(latencies, 0.99),
  };
  rows.push(row);
  console.log(`  ${name}: CPU ${row.cpuUs.toFixed(0)} µs, mean ${row.meanUs.toFixed(0)} µs, p50 ${row.p50Us.toFixed(0)} µs, p99 ${row.p99Us.toFixed(0)} µs (${row.n})`);
}

function check(ok: boolean, what: string): void {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) process.exitCode = 1;
}

// ---- the candidate statements (portable SQL; `?` placeholders, numbered for PostgreSQL) ----

/** Verification and the key's own row in one statement: everything the request's loaders need. */
const VERIFY = `select k.*, s.expires_at as secret_expires_at
  from api_key_secrets s join api_keys k on k.id = s.api_key_id where s.secret_hash = ?`;

/** The prompt's row and the access decision for a SPECIFIC key, in one statement. */
const PROMPT_AND_DECISION = `select p.*,
  (exists (select 1 from api_key_prompt_grants g where g.api_key_id = ? and g.prompt_id = p.id)
   or exists (select 1 from flow_steps s join api_key_flow_grants g on g.flow_id = s.flow_id where s.prompt_id = p.id and g.api_key_id = ?)) as granted
  from prompts p where p.id = ? and p.deleted_at is null`;

/** The same decision read from the access index. */
const PROMPT_AND_DECISION_INDEX = `select p.*, exists (select 1 from candidate_access a where a.prompt_id = p.id and a.api_key_id = ?) as granted
  from prompts p where p.id = ? and p.deleted_at is null`;

/**
 * The access index: one row per (prompt, SPECIFIC key not revoked) that a grant reaches, directly
 * or through any flow, with the key's name and expiry copied so that a page is an index walk.
 * `paths` counts the grants that reach it, so removing one grant removes the row only with the last.
 */
function accessIndexDdl(pgStore: boolean): string[] {
  const ts = pgStore ? 'timestamptz' : 'datetime';
  return [
    `create table candidate_access (prompt_id varchar(32) not null, api_key_id varchar(32) not null, key_name varchar(200) not null, expires_at ${ts} null, paths int not null, primary key (prompt_id, api_key_id))`,
    `create index candidate_access_page on candidate_access (prompt_id, key_name, api_key_id)`,
    `create index candidate_access_expiring on candidate_access (prompt_id, expires_at) where expires_at is not null`,
    `create index candidate_access_key on candidate_access (api_key_id)`,
    `create table candidate_access_count (prompt_id varchar(32) primary key, non_expiring int not null)`,
    `create index candidate_org_wide_page on api_keys (organization_id, access, name, id) where revoked_at is null`,
    `insert into candidate_access (prompt_id, api_key_id, key_name, expires_at, paths)
       select r.prompt_id, k.id, k.name, k.expires_at, count(*) from (
         select g.api_key_id, g.prompt_id from api_key_prompt_grants g
         union all
         select g.api_key_id, s.prompt_id from api_key_flow_grants g join flow_steps s on s.flow_id = g.flow_id
       ) r join api_keys k on k.id = r.api_key_id
       where k.access = 'SPECIFIC' and k.revoked_at is null
       group by r.prompt_id, k.id, k.name, k.expires_at`,
    `insert into candidate_access_count (prompt_id, non_expiring) select prompt_id, count(*) from candidate_access where expires_at is null group by prompt_id`,
  ];
}

/** First page (limit = first + 1) from two ordered index walks that stop at the page, then the rows. */
const INDEX_PAGE = `select k.* from (
    select id, name from (select a.api_key_id as id, a.key_name as name from candidate_access a
      where a.prompt_id = ? and (a.expires_at is null or a.expires_at > ?) order by a.key_name, a.api_key_id limit ?) x
    union all
    select id, name from (select o.id, o.name from api_keys o
      where o.organization_id = ? and o.access = 'ORGANIZATION' and o.revoked_at is null and (o.expires_at is null or o.expires_at > ?)
      order by o.name, o.id limit ?) y
  ) e join api_keys k on k.id = e.id order by e.name, e.id limit ?`;

/** The same after a keyset cursor (name, id). */
const INDEX_PAGE_AFTER = `select k.* from (
    select id, name from (select a.api_key_id as id, a.key_name as name from candidate_access a
      where a.prompt_id = ? and (a.expires_at is null or a.expires_at > ?) and (a.key_name > ? or (a.key_name = ? and a.api_key_id > ?))
      order by a.key_name, a.api_key_id limit ?) x
    union all
    select id, name from (select o.id, o.name from api_keys o
      where o.organization_id = ? and o.access = 'ORGANIZATION' and o.revoked_at is null and (o.expires_at is null or o.expires_at > ?)
        and (o.name > ? or (o.name = ? and o.id > ?))
      order by o.name, o.id limit ?) y
  ) e join api_keys k on k.id = e.id order by e.name, e.id limit ?`;

/**
 * The total: the maintained count of rows that never expire, plus the expiring rows still
 * active (a range of a partial index: only keys with an expiry are in it), plus the
 * organization-wide keys still active.
 */
const INDEX_COUNT = `select coalesce((select non_expiring from candidate_access_count where prompt_id = ?), 0)
  + (select count(*) from candidate_access where prompt_id = ? and expires_at is not null and expires_at > ?)
  + (select count(*) from api_keys where organization_id = ? and access = 'ORGANIZATION' and revoked_at is null and (expires_at is null or expires_at > ?)) as total_count`;

/** What adding a step to a flow costs the index: one upsert per key the flow is granted to. */
const ADD_STEP_UPSERT = `insert into candidate_access (prompt_id, api_key_id, key_name, expires_at, paths)
  select ?, k.id, k.name, k.expires_at, 1 from api_key_flow_grants g join api_keys k on k.id = g.api_key_id
  where g.flow_id = ? and k.access = 'SPECIFIC' and k.revoked_at is null
  on conflict (prompt_id, api_key_id) do update set paths = candidate_access.paths + 1`;

const numbered = (sql: string) => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

async function main(): Promise<void> {
  for (const store of stores) {
    const db = await openBenchDatabase(store === 'postgres' ? postgresUrl : undefined);
    const rows: Timing[] = [];
    timings.push({ store, rows });
    try {
      console.log(`\n=== ${db.label}, scale ${scale}: seeding…`);
      const seed = await seedBenchData(db.orm, { ...DEFAULT_SEED, ...SEED_SCALES[scale] });
      console.log(`  seeded in ${seed.seconds.toFixed(1)} s; popular ${seed.shape.popularEligible} keys, rare ${seed.shape.rareEligible}`);
      const key = seed.keys.viaFlow;
      const hash = hashCredential(key.secret);
      const nowDate = new Date();
      const em = db.orm.em.fork();
      const current = availableKeysQuery(em, { kind: 'prompt', id: seed.popularPromptId, organizationId: seed.organizationId }, nowDate, { limit: 21 });
      const currentRare = availableKeysQuery(em, { kind: 'prompt', id: seed.rarePromptId, organizationId: seed.organizationId }, nowDate, { limit: 21 });
      const expectedPage = (await em.getConnection().execute(current.sql, current.params)).map((r: { id: string }) => r.id);

      // The statements one GraphQL request sends today, through the real app.
      const quiet: Logger = createLogger('error', () => {});
      const app = createApp({ orm: db.orm, config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000 }, logger: quiet });
      const gql = (query: string, variables: Record<string, unknown>, token: string) =>
        Promise.resolve(app.fetch('http://127.0.0.1/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        })).then((r) => r.text());
      for (const [title, query, variables, token] of [
        ['checkAccess by a key', 'query ($p: ID!) { checkAccess(promptId: $p) { allowed reason } }', { p: key.promptId }, key.secret],
        ['viewer { apiKey } by a key', '{ viewer { apiKey { id access status } } }', {}, key.secret],
        ['runPrompt (echo) by a key', 'mutation ($i: RunPromptInput!) { runPrompt(input: $i) { status } }', { i: { promptId: key.promptId, inputs: { question: 'q' } } }, key.secret],
        ['availableApiKeys popular prompt (session)', 'query ($p: ID!) { availableApiKeys(promptId: $p, first: 20) { totalCount nodes { id name access status } } }', { p: seed.popularPromptId }, seed.sessionToken],
      ] as const) {
        await gql(query, variables, token); // lastUsedAt written once, caches warm
        const { queries } = await captureQueries(db.orm, () => gql(query, variables, token));
        console.log(`  ${title}: ${queries.length} statements`);
        for (const q of queries) console.log(`    ${q.sql.replace(/\s+/g, ' ').slice(0, 160)}`);
      }

      // Today, as the server sends it: MikroORM's execute inlines the parameters.
      await time(rows, 'verification as today (ORM execute, parameters inlined)', () =>
        db.orm.em.fork().getConnection().execute(
          `select k.id, k.organization_id, k.access, k.expires_at, k.revoked_at, k.last_used_at, s.expires_at as secret_expires_at
           from api_key_secrets s join api_keys k on k.id = s.api_key_id where s.secret_hash = ?`,
          [hash],
        ),
      );
      await time(rows, 'availableKeysQuery popular as today (ORM execute)', () => db.orm.em.fork().getConnection().execute(current.sql, current.params));

      if (store === 'sqlite') {
        if (db.database.dialect !== 'sqlite') throw new Error('unreachable');
        const sqlite = new Database(db.database.path);
        sqlite.pragma('journal_mode = WAL');
        const at = nowDate.getTime();
        const verify = sqlite.prepare(VERIFY);
        const decide = sqlite.prepare(PROMPT_AND_DECISION);
        check(verify.get(hash) !== undefined, 'VERIFY finds the key');
        check((decide.get(key.id, key.id, key.promptId) as { granted: number }).granted === 1, 'PROMPT_AND_DECISION: GRANTED via the flow');
        await time(rows, 'VERIFY (k.*), prepared once', () => verify.get(hash));
        await time(rows, 'VERIFY compiled anew each call (what inlining costs)', () => sqlite.prepare(VERIFY).get(hash));
        await time(rows, 'PROMPT_AND_DECISION (prompt row + grant check), prepared once', () => decide.get(key.id, key.id, key.promptId));
        const popularNow = sqlite.prepare(current.sql);
        const rareNow = sqlite.prepare(currentRare.sql);
        await time(rows, 'availableKeysQuery popular, prepared once', () => popularNow.all(...(current.params as unknown[])));
        await time(rows, 'availableKeysQuery rare, prepared once', () => rareNow.all(...(currentRare.params as unknown[])));

        // Runs: today's three flushes vs one transaction writing the finished run and its step.
        const insertRun = sqlite.prepare(
          `insert into runs (id, organization_id, kind, status, prompt_id, api_key_id, inputs, result, started_at, finished_at, duration_ms, deadline_at, prompt_tokens, completion_tokens)
           values (?, ?, 'PROMPT', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)`,
        );
        const insertStep = sqlite.prepare(
          `insert into run_steps (id, run_id, position, prompt_id, status, result, duration_ms, prompt_tokens, completion_tokens) values (?, ?, 1, ?, ?, ?, ?, 0, 0)`,
        );
        const updateRun = sqlite.prepare(`update runs set status = 'SUCCEEDED', result = ?, finished_at = ?, duration_ms = ? where id = ?`);
        const updateStep = sqlite.prepare(`update run_steps set status = 'SUCCEEDED', result = ?, duration_ms = ? where id = ?`);
        let n = 0;
        const runOnce = sqlite.transaction((status: string) => {
          const id = `run_bench_${n++}`;
          insertRun.run(id, seed.organizationId, status, key.promptId, key.id, '{"question":"q"}', 'answer', at, at, 0, at + 60_000);
          insertStep.run(`stp_bench_${n}`, id, key.promptId, status, 'answer', 0);
          return id;
        });
        await time(rows, 'run: 1 transaction, finished run + step (2 inserts)', () => runOnce('SUCCEEDED'));
        const finishTx = sqlite.transaction((id: string) => {
          updateRun.run('answer', at, 0, id);
          updateStep.run('answer', 0, `stp_bench_${n}`);
        });
        await time(rows, 'run: RUNNING run + step, then finish (2 transactions, 4 statements)', () => finishTx(runOnce('RUNNING')));

        // The access index.
        let started = performance.now();
        for (const ddl of accessIndexDdl(false)) sqlite.exec(ddl);
        sqlite.exec('analyze');
        const indexRows = (sqlite.prepare('select count(*) as n from candidate_access').get() as { n: number }).n;
        console.log(`  access index built: ${indexRows} rows in ${(performance.now() - started).toFixed(0)} ms`);
        const page = sqlite.prepare(INDEX_PAGE);
        const pageAfter = sqlite.prepare(INDEX_PAGE_AFTER);
        const count = sqlite.prepare(INDEX_COUNT);
        const org = seed.organizationId;
        const popularPage = page.all(seed.popularPromptId, at, 21, org, at, 21, 21) as { id: string; name: string }[];
        check(JSON.stringify(popularPage.map((r) => r.id)) === JSON.stringify(expectedPage), 'INDEX_PAGE: the same first page of the popular prompt as today');
        const total = (count.get(seed.popularPromptId, seed.popularPromptId, at, org, at) as { total_count: number }).total_count;
        check(total === seed.shape.popularEligible, `INDEX_COUNT popular ${total} = ${seed.shape.popularEligible}`);
        const rareTotal = (count.get(seed.rarePromptId, seed.rarePromptId, at, org, at) as { total_count: number }).total_count;
        check(rareTotal === seed.shape.rareEligible, `INDEX_COUNT rare ${rareTotal} = ${seed.shape.rareEligible}`);
        const last = popularPage[19]!;
        await time(rows, 'INDEX_PAGE popular, first 20', () => page.all(seed.popularPromptId, at, 21, org, at, 21, 21));
        await time(rows, 'INDEX_PAGE_AFTER popular, page 2', () => pageAfter.all(seed.popularPromptId, at, last.name, last.name, last.id, 21, org, at, last.name, last.name, last.id, 21, 21));
        await time(rows, 'INDEX_COUNT popular', () => count.get(seed.popularPromptId, seed.popularPromptId, at, org, at));
        await time(rows, 'INDEX_PAGE + INDEX_COUNT popular', () => {
          page.all(seed.popularPromptId, at, 21, org, at, 21, 21);
          return count.get(seed.popularPromptId, seed.popularPromptId, at, org, at);
        });
        await time(rows, 'INDEX_PAGE + INDEX_COUNT rare', () => {
          page.all(seed.rarePromptId, at, 21, org, at, 21, 21);
          return count.get(seed.rarePromptId, seed.rarePromptId, at, org, at);
        });
        const decideIndexed = sqlite.prepare(PROMPT_AND_DECISION_INDEX);
        check((decideIndexed.get(key.id, key.promptId) as { granted: number }).granted === 1, 'PROMPT_AND_DECISION_INDEX: GRANTED');
        await time(rows, 'PROMPT_AND_DECISION_INDEX, prepared once', () => decideIndexed.get(key.id, key.promptId));
        // Maintenance: a flow granted to many keys gains a step (then rolled back).
        const busiest = sqlite.prepare('select flow_id, count(*) as n from api_key_flow_grants group by flow_id order by n desc limit 1').get() as { flow_id: string; n: number };
        const upsert = sqlite.prepare(ADD_STEP_UPSERT);
        started = performance.now();
        sqlite.exec('begin');
        const changed = upsert.run(seed.rarePromptId, busiest.flow_id).changes;
        sqlite.exec('rollback');
        console.log(`  maintenance: adding a step to a flow granted to ${busiest.n} keys upserts ${changed} index rows in ${(performance.now() - started).toFixed(1)} ms`);
        sqlite.close();
      } else {
        if (db.database.dialect !== 'postgresql') throw new Error('unreachable');
        const client = new pg.Client({ connectionString: db.database.url });
        await client.connect();
        const q = (name: string | undefined, sql: string, values: unknown[]) => client.query({ ...(name ? { name } : {}), text: numbered(sql), values });
        const verifyRow = await q('verify', VERIFY, [hash]);
        check(verifyRow.rows.length === 1, 'VERIFY finds the key');
        const decided = await q('decide', PROMPT_AND_DECISION, [key.id, key.id, key.promptId]);
        check(decided.rows[0]?.granted === true, 'PROMPT_AND_DECISION: GRANTED via the flow');
        await time(rows, 'VERIFY (k.*), named prepared statement', () => q('verify', VERIFY, [hash]));
        await time(rows, 'VERIFY, unnamed (parse + plan each call)', () => q(undefined, VERIFY, [hash]));
        await time(rows, 'PROMPT_AND_DECISION, named prepared statement', () => q('decide', PROMPT_AND_DECISION, [key.id, key.id, key.promptId]));
        await time(rows, 'availableKeysQuery popular, named prepared statement', () => q('popular', current.sql, current.params));
        await time(rows, 'availableKeysQuery rare, named prepared statement', () => q('rare', currentRare.sql, currentRare.params));

        // Runs: one statement (a data-modifying CTE is one implicit transaction) vs 2 transactions.
        let n = 0;
        const at = nowDate;
        const deadline = new Date(at.getTime() + 60_000);
        const RUN_ONE_STATEMENT = `with r as (
            insert into runs (id, organization_id, kind, status, prompt_id, api_key_id, inputs, result, started_at, finished_at, duration_ms, deadline_at, prompt_tokens, completion_tokens)
            values (?, ?, 'PROMPT', 'SUCCEEDED', ?, ?, ?, ?, ?, ?, 0, ?, 0, 0) returning id)
          insert into run_steps (id, run_id, position, prompt_id, status, result, duration_ms, prompt_tokens, completion_tokens)
          select ?, r.id, 1, ?, 'SUCCEEDED', ?, 0, 0, 0 from r`;
        await time(rows, 'run: 1 statement (CTE) writing the finished run + step', () => {
          n++;
          return q('run1', RUN_ONE_STATEMENT, [`run_b_${n}`, seed.organizationId, key.promptId, key.id, '{"question":"q"}', 'answer', at, at, deadline, `stp_b_${n}`, key.promptId, 'answer']);
        });
        await time(rows, 'run: RUNNING, then finish (begin, 2 inserts, commit, begin, 2 updates, commit)', async () => {
          n++;
          await client.query('begin');
          await q('ins_run', `insert into runs (id, organization_id, kind, status, prompt_id, api_key_id, inputs, started_at, deadline_at) values (?, ?, 'PROMPT', 'RUNNING', ?, ?, ?, ?, ?)`, [
            `run_b_${n}`,
            seed.organizationId,
            key.promptId,
            key.id,
            '{"question":"q"}',
            at,
            deadline,
          ]);
          await q('ins_step', `insert into run_steps (id, run_id, position, prompt_id, status) values (?, ?, 1, ?, 'RUNNING')`, [`stp_b_${n}`, `run_b_${n}`, key.promptId]);
          await client.query('commit');
          await client.query('begin');
          await q('upd_run', `update runs set status = 'SUCCEEDED', result = ?, finished_at = ?, duration_ms = 0 where id = ?`, ['answer', at, `run_b_${n}`]);
          await q('upd_step', `update run_steps set status = 'SUCCEEDED', result = ?, duration_ms = 0 where id = ?`, ['answer', `stp_b_${n}`]);
          await client.query('commit');
        });

        let started = performance.now();
        for (const ddl of accessIndexDdl(true)) await client.query(ddl);
        await client.query('vacuum (analyze) candidate_access, candidate_access_count, api_keys');
        const indexRows = (await client.query('select count(*)::int as n from candidate_access')).rows[0]!.n as number;
        console.log(`  access index built: ${indexRows} rows in ${(performance.now() - started).toFixed(0)} ms`);
        const org = seed.organizationId;
        const pageArgs = (prompt: string) => [prompt, at, 21, org, at, 21, 21];
        const countArgs = (prompt: string) => [prompt, prompt, at, org, at];
        const popularPage = (await q('page', INDEX_PAGE, pageArgs(seed.popularPromptId))).rows as { id: string; name: string }[];
        check(JSON.stringify(popularPage.map((r) => r.id)) === JSON.stringify(expectedPage), 'INDEX_PAGE: the same first page of the popular prompt as today');
        const total = Number((await q('count', INDEX_COUNT, countArgs(seed.popularPromptId))).rows[0]!.total_count);
        check(total === seed.shape.popularEligible, `INDEX_COUNT popular ${total} = ${seed.shape.popularEligible}`);
        const rareTotal = Number((await q('count', INDEX_COUNT, countArgs(seed.rarePromptId))).rows[0]!.total_count);
        check(rareTotal === seed.shape.rareEligible, `INDEX_COUNT rare ${rareTotal} = ${seed.shape.rareEligible}`);
        const last = popularPage[19]!;
        await time(rows, 'INDEX_PAGE popular, first 20', () => q('page', INDEX_PAGE, pageArgs(seed.popularPromptId)));
        await time(rows, 'INDEX_PAGE_AFTER popular, page 2', () =>
          q('page2', INDEX_PAGE_AFTER, [seed.popularPromptId, at, last.name, last.name, last.id, 21, org, at, last.name, last.name, last.id, 21, 21]),
        );
        await time(rows, 'INDEX_COUNT popular', () => q('count', INDEX_COUNT, countArgs(seed.popularPromptId)));
        await time(rows, 'INDEX_PAGE + INDEX_COUNT popular (2 round trips)', async () => {
          await q('page', INDEX_PAGE, pageArgs(seed.popularPromptId));
          return q('count', INDEX_COUNT, countArgs(seed.popularPromptId));
        });
        await time(rows, 'INDEX_PAGE + INDEX_COUNT rare (2 round trips)', async () => {
          await q('page', INDEX_PAGE, pageArgs(seed.rarePromptId));
          return q('count', INDEX_COUNT, countArgs(seed.rarePromptId));
        });
        await time(rows, 'PROMPT_AND_DECISION_INDEX, named prepared statement', () => q('decidei', PROMPT_AND_DECISION_INDEX, [key.id, key.promptId]));
        for (const [title, sql, values] of [
          ['INDEX_PAGE popular', INDEX_PAGE, pageArgs(seed.popularPromptId)],
          ['INDEX_COUNT popular', INDEX_COUNT, countArgs(seed.popularPromptId)],
        ] as const) {
          const plan = await client.query({ text: `explain (analyze, buffers) ${numbered(sql)}`, values: [...values] });
          console.log(`  --- ${title}: EXPLAIN (ANALYZE, BUFFERS)`);
          for (const line of plan.rows) console.log(`    ${line['QUERY PLAN']}`);
        }
        const busiest = (await client.query('select flow_id, count(*)::int as n from api_key_flow_grants group by flow_id order by n desc limit 1')).rows[0] as unknown as { flow_id: string; n: number };
        started = performance.now();
        await client.query('begin');
        const changed = (await q(undefined, ADD_STEP_UPSERT, [seed.rarePromptId, busiest.flow_id])).rowCount;
        await client.query('rollback');
        console.log(`  maintenance: adding a step to a flow granted to ${busiest.n} keys upserts ${changed} index rows in ${(performance.now() - started).toFixed(1)} ms`);

        // Invalidation channel: NOTIFY on one connection, heard by LISTEN on another.
        const listener = new pg.Client({ connectionString: db.database.url });
        await listener.connect();
        await listener.query('listen key_changes');
        let heard: (() => void) | undefined;
        listener.on('notification', () => heard?.());
        await time(rows, 'NOTIFY → LISTEN round trip (another connection hears it)', () => {
          const got = new Promise<void>((resolve) => (heard = resolve));
          void client.query(`notify key_changes, 'key_x'`);
          return got;
        });
        await listener.end();
        await client.end();
      }
    } finally {
      await db.close();
    }
  }
  for (const { store, rows } of timings) {
    console.log(`\n## ${store}, scale ${scale}\n\n| statement | n | CPU µs/call (this process) | mean µs | p50 µs | p99 µs |\n| --- | --- | --- | --- | --- | --- |`);
    for (const r of rows) console.log(`| ${r.name} | ${r.n} | ${r.cpuUs.toFixed(0)} | ${r.meanUs.toFixed(0)} | ${r.p50Us.toFixed(0)} | ${r.p99Us.toFixed(0)} |`);
  }
}

await main();
