/**
 * PromptGate benchmarks: the hot paths (key verification, the access rule, availableApiKeys) on a
 * large organization, directly and through GraphQL, their query plans, and a short HTTP load run.
 *
 *   node --import tsx bench/run.ts                                   # SQLite (a temporary file)
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     node --import tsx bench/run.ts                                 # PostgreSQL (a scratch database, dropped after)
 *
 * Every loop is bounded in count and time; traffic goes only to 127.0.0.1. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decideAccess, type KeyFacts, type Resource } from '../server/modules/access/rule.ts';
import { generateCredential } from '../server/auth/credentials.ts';
import { isPostgres } from '../server/db/dialect.ts';
import { createLogger } from '../server/logger.ts';
import { authenticateApiKey } from '../server/modules/api-key/api-key.auth.ts';
import { availableApiKeys } from '../server/modules/access/available-keys.ts';
import { createApp, type App } from '../server/yoga.ts';
import { openBenchDatabase, type BenchDatabase } from './db.ts';
import { loadTool, type LoadSpec } from './load.ts';
import { loadTable, measure, measurementTable, type Bounds, type LoadResult, type Measurement } from './measure.ts';
import { seedBenchData, type SeedResult } from './seed.ts';
import { captureQueries, explain, tidySql, type Plan } from './sql.ts';
import { startServer, type BenchServer } from './servers.ts';
import { intSetting } from './settings.ts';

// ---- settings (environment) ----------------------------------------------------------------------

const settings = {
  serverUrl: process.env.BENCH_DATABASE_URL || undefined,
  bounds: {
    warmup: intSetting('BENCH_WARMUP', 100, 0, 10_000),
    iterations: intSetting('BENCH_ITERATIONS', 2_000, 1, 100_000),
    maxMs: intSetting('BENCH_MAX_SECONDS', 5, 1, 20) * 1000,
  } satisfies Bounds,
  loadSeconds: intSetting('BENCH_LOAD_SECONDS', 8, 0, 10),
  connections: intSetting('BENCH_CONNECTIONS', 10, 1, 100),
  sqliteAnalyze: process.env.BENCH_SQLITE_ANALYZE === '1',
  json: process.env.BENCH_JSON || undefined,
};
/** The whole run is stopped (and its database removed) past this, whatever it is doing. */
const HARD_LIMIT_MS = 240_000;

const here = dirname(fileURLToPath(import.meta.url));
const checks: { ok: boolean; text: string }[] = [];
function check(ok: boolean, text: string): void {
  checks.push({ ok, text });
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${text}`);
}

// ---- GraphQL through app.fetch ---------------------------------------------------------------------

interface Sent {
  status: number;
  text: string;
}

async function post(app: App, body: string, token?: string): Promise<Sent> {
  const response = await app.fetch('http://127.0.0.1/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

const Q = {
  typename: '{ __typename }',
  viewerKey: '{ viewer { apiKey { id access status } } }',
  checkAccess: 'query Check($promptId: ID!) { checkAccess(promptId: $promptId) { allowed reason } }',
  available:
    'query Available($promptId: ID!) { availableApiKeys(promptId: $promptId, first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { id name access status } } }',
};

interface GqlCase {
  name: string;
  body: string;
  token?: string;
  /** What a correct answer contains. */
  expect: (data: Record<string, unknown>) => boolean;
}

// ---- the run ----------------------------------------------------------------------------------------

function commitOf(): string {
  try {
    const sha = execFileSync('git', ['-C', here, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', here, 'status', '--porcelain', '--untracked-files=no', '--', '..'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}

async function databaseVersion(db: BenchDatabase): Promise<string> {
  const connection = db.orm.em.fork().getConnection();
  if (db.database.dialect === 'postgresql') {
    const [row] = await connection.execute('show server_version');
    return `PostgreSQL ${row.server_version}`;
  }
  const [row] = await connection.execute('select sqlite_version() as v');
  return `SQLite ${row.v}`;
}


async function main(): Promise<number> {
  const started = performance.now();
  const date = new Date().toISOString();
  console.log(`PromptGate benchmarks — ${date}, commit ${commitOf()}, Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`);
  const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`load average at start: ${loadAtStart} (other processes on the machine skew the figures: compare with the CPU ms/op column)`);
  console.log(
    `bounds: ${settings.bounds.warmup} warm-up + up to ${settings.bounds.iterations} calls or ${settings.bounds.maxMs / 1000} s per benchmark; ` +
      `load ${settings.loadSeconds} s × ${settings.connections} connections`,
  );

  const db = await openBenchDatabase(settings.serverUrl);
  let server: BenchServer | undefined;
  // Whatever stops the run (the time limit, Ctrl-C, an error thrown outside the awaited chain),
  // the server process is stopped and the database removed.
  const abort = (why: string, code: number) => {
    console.error(`bench: ${why}; stopping and removing the database`);
    void Promise.allSettled([server?.stop(), db.close()]).finally(() => process.exit(code));
  };
  const hardStop = setTimeout(() => abort(`over ${HARD_LIMIT_MS / 1000} s`, 2), HARD_LIMIT_MS);
  hardStop.unref();
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  process.once('uncaughtException', (error) => abort(`uncaught ${String(error.stack ?? error).slice(0, 2000)}`, 1));

  try {
    const version = await databaseVersion(db);
    console.log(`store: ${version} (${db.label})\n`);

    // ---- seed ----
    console.log('seeding…');
    const seed = await seedBenchData(db.orm);
    const rows = Object.entries(seed.counts)
      .map(([table, n]) => `${table} ${n.toLocaleString('en-US')}`)
      .join(', ');
    console.log(`  ${rows}`);
    console.log(
      `  eligible keys: popular prompt ${seed.shape.popularEligible}, rare prompt ${seed.shape.rareEligible}, flow ${seed.shape.flowEligible}; seeded in ${seed.seconds.toFixed(1)} s`,
    );
    if (db.database.dialect === 'sqlite' && settings.sqliteAnalyze) {
      await db.orm.em.fork().getConnection().execute('analyze');
      console.log('  SQLite ANALYZE run (BENCH_SQLITE_ANALYZE=1): the planner has statistics');
    }

    const results: Measurement[] = [];
    const now = () => new Date();
    const em = () => db.orm.em.fork();

    // ---- fixtures and correctness checks ----
    console.log('\nchecks:');
    const viaFlowAuth = await authenticateApiKey(em(), seed.keys.viaFlow.secret, now());
    const viaFlowKey: KeyFacts = viaFlowAuth.principal.key;
    const deniedKey: KeyFacts = (await authenticateApiKey(em(), seed.keys.denied.secret, now())).principal.key;
    const orgId = seed.organizationId;
    const viaFlowPrompt: Resource = { kind: 'prompt', id: seed.keys.viaFlow.promptId, organizationId: orgId };
    const deniedPrompt: Resource = { kind: 'prompt', id: seed.keys.denied.promptId, organizationId: orgId };
    const popular: Resource = { kind: 'prompt', id: seed.popularPromptId, organizationId: orgId };
    const rare: Resource = { kind: 'prompt', id: seed.rarePromptId, organizationId: orgId };
    const flow: Resource = { kind: 'flow', id: seed.flowId, organizationId: orgId };

    check(viaFlowKey.id === seed.keys.viaFlow.id, 'authenticateApiKey finds the key of a known secret');
    const unknownSecret = generateCredential('apiKey');
    const refused = await authenticateApiKey(em(), unknownSecret, now()).then(
      () => false,
      () => true,
    );
    check(refused, 'authenticateApiKey refuses a well-formed unknown secret');
    const revokedRefused = await authenticateApiKey(em(), seed.keys.revoked.secret, now()).then(
      () => false,
      () => true,
    );
    check(revokedRefused, 'authenticateApiKey refuses a revoked key');
    const granted = await decideAccess(em(), viaFlowKey, viaFlowPrompt, now());
    check(granted.allowed && granted.reason === 'GRANTED', `decideAccess via a flow grant: ${granted.reason}`);
    const denied = await decideAccess(em(), deniedKey, deniedPrompt, now());
    check(!denied.allowed && denied.reason === 'NOT_GRANTED', `decideAccess without a grant: ${denied.reason}`);
    const firstPopular = await availableApiKeys(em(), popular, { first: 20 }, now());
    check(
      firstPopular.totalCount === seed.shape.popularEligible && firstPopular.edges.length === 20,
      `availableApiKeys(popular).totalCount ${firstPopular.totalCount} = ${seed.shape.popularEligible} computed from the seed`,
    );
    const rareCount = (await availableApiKeys(em(), rare, { first: 20 }, now())).totalCount;
    check(rareCount === seed.shape.rareEligible, `availableApiKeys(rare).totalCount ${rareCount} = ${seed.shape.rareEligible}`);
    const flowCount = (await availableApiKeys(em(), flow, { first: 20 }, now())).totalCount;
    check(flowCount === seed.shape.flowEligible, `availableApiKeys(flow).totalCount ${flowCount} = ${seed.shape.flowEligible}`);
    const popularAfter = firstPopular.pageInfo.endCursor!;

    /** Measures, then counts the SQL statements of one more call. */
    const run = async (name: string, fn: () => Promise<unknown>) => {
      const m = await measure(name, settings.bounds, fn);
      m.queries = (await captureQueries(db.orm, fn)).queries.length;
      results.push(m);
      console.log(`  ${name}: ${Math.round(m.opsPerSec)} ops/s, p50 ${m.p50Ms.toFixed(3)} ms, p99 ${m.p99Ms.toFixed(3)} ms (${m.count} calls)`);
      return m;
    };

    // ---- (a) key verification ----
    console.log('\n(a) key verification, (b) the access rule, (c) availableApiKeys: service functions, one call at a time');
    await run('a. authenticateApiKey, known secret', () => authenticateApiKey(em(), seed.keys.viaFlow.secret, now()));
    await run('a. authenticateApiKey, unknown secret (refused)', () => authenticateApiKey(em(), unknownSecret, now()).catch(() => null));

    // ---- (b) the access rule ----
    await run('b. decideAccess SPECIFIC key, prompt via flow grant (GRANTED)', () => decideAccess(em(), viaFlowKey, viaFlowPrompt, now()));
    await run('b. decideAccess SPECIFIC key, no grant (NOT_GRANTED)', () => decideAccess(em(), deniedKey, deniedPrompt, now()));

    // ---- (c) availableApiKeys ----
    await run(`c. availableApiKeys popular prompt (${seed.shape.popularEligible} keys), first 20`, () =>
      availableApiKeys(em(), popular, { first: 20 }, now()),
    );
    await run('c. availableApiKeys popular prompt, page 2 (after)', () => availableApiKeys(em(), popular, { first: 20, after: popularAfter }, now()));
    await run(`c. availableApiKeys rare prompt (${seed.shape.rareEligible} keys), first 20`, () => availableApiKeys(em(), rare, { first: 20 }, now()));
    await run(`c. availableApiKeys flow (${seed.shape.flowEligible} keys), first 20`, () => availableApiKeys(em(), flow, { first: 20 }, now()));

    // ---- (d) the same through GraphQL, app.fetch ----
    console.log('\n(d) end to end through the GraphQL app (app.fetch, no socket), one request at a time');
    const errors: string[] = [];
    const quiet = createLogger('error', (_level, line) => errors.push(line));
    const app = createApp({ orm: db.orm, config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000 }, logger: quiet });
    const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });
    const cases: GqlCase[] = [
      { name: 'd. { __typename }, anonymous (yoga floor)', body: body(Q.typename), expect: (d) => d.__typename === 'Query' },
      {
        name: 'd. viewer { apiKey } with a key (verification)',
        body: body(Q.viewerKey),
        token: seed.keys.viaFlow.secret,
        expect: (d) => (d.viewer as { apiKey: { id: string } }).apiKey.id === seed.keys.viaFlow.id,
      },
      {
        name: 'd. checkAccess(promptId) with a key, via flow grant',
        body: body(Q.checkAccess, { promptId: viaFlowPrompt.id }),
        token: seed.keys.viaFlow.secret,
        expect: (d) => (d.checkAccess as { reason: string }).reason === 'GRANTED',
      },
      {
        name: 'd. availableApiKeys popular prompt, first 20 (session)',
        body: body(Q.available, { promptId: popular.id }),
        token: seed.sessionToken,
        expect: (d) => (d.availableApiKeys as { totalCount: number }).totalCount === seed.shape.popularEligible,
      },
      {
        name: 'd. availableApiKeys rare prompt, first 20 (session)',
        body: body(Q.available, { promptId: rare.id }),
        token: seed.sessionToken,
        expect: (d) => (d.availableApiKeys as { totalCount: number }).totalCount === seed.shape.rareEligible,
      },
    ];
    const answers = new Map<string, string>();
    for (const c of cases) {
      const sent = await post(app, c.body, c.token);
      const parsed = JSON.parse(sent.text) as { data?: Record<string, unknown>; errors?: unknown[] };
      check(sent.status === 200 && !parsed.errors && !!parsed.data && c.expect(parsed.data), `${c.name}: HTTP ${sent.status}, ${parsed.errors ? JSON.stringify(parsed.errors).slice(0, 300) : 'data as expected'}`);
      answers.set(c.name, sent.text);
    }
    for (const c of cases) await run(c.name, () => post(app, c.body, c.token));
    check(errors.length === 0, `the app logged no unexpected error${errors.length ? `: ${errors[0]!.slice(0, 300)}` : ''}`);

    // ---- (e) query plans ----
    console.log('\n(e) query plans');
    const captured = async (fn: () => Promise<unknown>, pick: (sql: string) => boolean) =>
      (await captureQueries(db.orm, fn)).queries.map((q) => q.sql).find(pick);
    const verifySql = await captured(() => authenticateApiKey(em(), seed.keys.viaFlow.secret, now()), (sql) => /api_key_secrets/.test(sql));
    const grantedSql = await captured(() => decideAccess(em(), viaFlowKey, viaFlowPrompt, now()), (sql) => /api_key_flow_grants/.test(sql));
    const popularSql = await captured(() => availableApiKeys(em(), popular, { first: 20 }, now()), (sql) => /with eligible|from key_access a/.test(sql));
    const rareSql = await captured(() => availableApiKeys(em(), rare, { first: 20 }, now()), (sql) => /with eligible|from key_access a/.test(sql));
    const plans: Plan[] = [];
    for (const [title, sql] of [
      ['key verification (authenticateApiKey)', verifySql],
      ['access rule for a SPECIFIC key and a prompt (isGranted)', grantedSql],
      ['availableApiKeys, popular prompt', popularSql],
      ['availableApiKeys, rare prompt', rareSql],
    ] as const) {
      if (!sql) {
        check(false, `captured the SQL of ${title}`);
        continue;
      }
      plans.push(await explain(db.orm, title, sql));
    }
    const explainKind = isPostgres(db.orm.em.fork()) ? 'EXPLAIN (ANALYZE, BUFFERS)' : 'EXPLAIN QUERY PLAN';
    for (const plan of plans) {
      console.log(`\n--- ${plan.title}: ${explainKind}`);
      console.log(`SQL: ${tidySql(plan.sql).slice(0, 4000)}`);
      for (const line of plan.lines) console.log(`  ${line}`);
      console.log(`  indexes used: ${plan.indexes.join(', ') || 'none'}`);
      console.log(`  full scans of a table: ${plan.fullScans.length ? plan.fullScans.join(' | ') : 'none'}`);
      for (const note of planNotes(plan)) console.log(`  NOTE: ${note}`);
    }

    // ---- load through real HTTP on loopback ----
    const loads: LoadResult[] = [];
    if (settings.loadSeconds > 0) {
      const tool = await loadTool();
      console.log(`\nload through node:http on 127.0.0.1 (server in a child process; ${tool.name})`);
      // Bundled and run as `npm start` runs the server (bench/servers.ts).
      server = await startServer({ entry: 'bench/http-server.ts', env: { BENCH_SERVER_DATABASE: JSON.stringify(db.database) }, limitMs: 90_000 });
      const url = server.url;
      const headers = (token: string) => ({
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        authorization: `Bearer ${token}`,
      });
      const specs: LoadSpec[] = [
        {
          name: 'checkAccess with a key (via flow grant)',
          url,
          headers: headers(seed.keys.viaFlow.secret),
          body: cases[2]!.body,
          expectBody: answers.get(cases[2]!.name)!,
          connections: settings.connections,
          seconds: settings.loadSeconds,
        },
        {
          name: 'availableApiKeys popular prompt (session)',
          url,
          headers: headers(seed.sessionToken),
          body: cases[3]!.body,
          expectBody: answers.get(cases[3]!.name)!,
          connections: settings.connections,
          seconds: settings.loadSeconds,
        },
      ];
      for (const spec of specs) {
        // One second at the same concurrency first, not counted: the server process JIT-compiles its paths.
        await tool.run({ ...spec, seconds: 1 });
        const result = await tool.run(spec);
        loads.push(result);
        console.log(`  ${spec.name}: ${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.failures} failures`);
        check(result.failures === 0, `load "${spec.name}": every answer was HTTP 200 with the expected body`);
      }
      // Both at once: what a few dashboards on the Integrate tab of a popular prompt do to the key
      // checks of every partner app served by the same process (and, on SQLite, the same thread).
      const [checkSpec, availableSpec] = specs as [LoadSpec, LoadSpec];
      const mixed = await Promise.all([
        tool.run({ ...checkSpec, name: `${checkSpec.name}, meanwhile 2 conns on the next` }),
        tool.run({ ...availableSpec, name: `${availableSpec.name}, 2 conns, at the same time`, connections: 2 }),
      ]);
      for (const result of mixed) {
        loads.push(result);
        console.log(`  ${result.name}: ${Math.round(result.requestsPerSec)} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.failures} failures`);
        check(result.failures === 0, `load "${result.name}": every answer was HTTP 200 with the expected body`);
      }
      await server.stop();
      server = undefined;
    }

    // ---- report ----
    const loadAtEnd = loadavg().map((l) => l.toFixed(2)).join(' ');
    console.log(`\n## Results — ${version}, ${date.slice(0, 10)}, commit ${commitOf()}, ${cpus().length} CPU(s), load average ${loadAtStart} at start, ${loadAtEnd} at end\n`);
    console.log(measurementTable(results));
    if (loads.length) console.log(`\n${loadTable(loads)}`);
    const failed = checks.filter((c) => !c.ok);
    console.log(`\n${checks.length - failed.length} checks passed, ${failed.length} failed; ${((performance.now() - started) / 1000).toFixed(0)} s in all`);
    if (settings.json) {
      writeFileSync(
        settings.json,
        JSON.stringify({ date, commit: commitOf(), node: process.version, cpus: cpus().length, loadAverage: { start: loadAtStart, end: loadAtEnd }, store: version, seed: summary(seed), results, loads, plans, checks }, null, 2),
      );
      console.log(`results written to ${settings.json}`);
    }
    return failed.length ? 1 : 0;
  } finally {
    if (server) await server.stop();
    await db.close();
    clearTimeout(hardStop);
  }
}

/**
 * What a reader should not miss in a plan of availableApiKeys: a grant branch that starts from
 * every key of the organization (through the (organization_id, access) index, probing the grants
 * key by key) costs as much for a prompt granted to 3 keys as for one granted to thousands.
 */
function planNotes(plan: Plan): string[] {
  const notes: string[] = [];
  if (!/with eligible/.test(plan.sql)) return notes;
  const fromAllKeys = plan.lines.filter((line) => /SEARCH k USING INDEX api_keys_organization_id_access_index/.test(line)).length;
  if (fromAllKeys > 1) {
    notes.push(
      `${fromAllKeys - 1} grant branch(es) start from all the SPECIFIC keys of the organization (api_keys_organization_id_access_index) ` +
        'and probe the grants key by key: their cost follows the size of the organization, not the number of matching keys',
    );
  }
  const seqKeys = plan.lines.filter((line) => /Seq Scan on api_keys /.test(line)).length;
  if (seqKeys) notes.push(`${seqKeys} branch(es) read every row of api_keys (hash join): chosen by cost when most keys match`);
  return notes;
}

function summary(seed: SeedResult) {
  return { counts: seed.counts, shape: seed.shape, seconds: seed.seconds };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`bench failed: ${text.slice(0, 2000)}`);
    process.exit(1);
  },
);
