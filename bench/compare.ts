/**
 * `npm run bench`: every hot path of the app under HTTP load, as requests per second and as a
 * ratio to baseline C (bench/baseline-server.ts: yoga + Pothos + scope-auth answering `{ hello }`)
 * loaded in the same run, interleaved C, row, C, row, …, C so that a machine that speeds up or
 * slows down during the run moves both sides of each ratio. On SQLite and on PostgreSQL, each on
 * a freshly seeded database (bench/seed.ts), with the goals of the hot-path issue and ✓/✗.
 *
 *   npm run bench                                  # both stores, 5 s per load run
 *   BENCH_SECONDS=3 npm run bench                  # a quick run
 *   BENCH_STORES=sqlite npm run bench              # one store
 *   BENCH_SCALE=large npm run bench                # 100,000 keys / 1,000,000 grants (on demand)
 *   BENCH_PROFILE=1 npm run bench                  # CPU profiles of checkAccess and runPrompt instead
 *
 * Every load run is bounded in time, traffic goes only to 127.0.0.1, the servers stop with the
 * run (or by themselves), and the databases are removed. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openBenchDatabase, type BenchDatabase } from './db.ts';
import { loadTool, runBuiltin, type LoadSpec, type LoadTool } from './load.ts';
import { median, type LoadResult } from './measure.ts';
import { summariseProfile } from './profile-summary.ts';
import { DEFAULT_SEED, SEED_SCALES, seedBenchData, type SeedResult } from './seed.ts';
import { body, firstAnswer, headers, Q, rowsFor } from './rows.ts';
import type { ServerStats } from './server-stats.ts';
import { startServer, type BenchServer } from './servers.ts';
import { intSetting, postgresUrlSetting, storesSetting } from './settings.ts';
import { wrkTool } from './wrk.ts';

// ---- settings ---------------------------------------------------------------------------------------

const scaleName = process.env.BENCH_SCALE || 'default';
if (!SEED_SCALES[scaleName]) throw new Error(`BENCH_SCALE must be one of ${Object.keys(SEED_SCALES).join(', ')}`);
const stores = storesSetting('sqlite,postgres');

const settings = {
  seconds: intSetting('BENCH_SECONDS', 5, 1, 60),
  /** Interleaved rounds (C, row, C, row, …, C); each figure is the median over the rounds. */
  rounds: intSetting('BENCH_ROUNDS', 1, 1, 10),
  connections: intSetting('BENCH_CONNECTIONS', 10, 1, 100),
  stores,
  postgresUrl: postgresUrlSetting(),
  scale: scaleName,
  seed: SEED_SCALES[scaleName]!,
  profile: process.env.BENCH_PROFILE === '1',
  /** Sampling interval of the CPU profiler, microseconds. */
  profileIntervalUs: intSetting('BENCH_PROFILE_INTERVAL_US', 500, 50, 10_000),
  /** Processes of the `WORKERS` row (node:cluster); 1 leaves the row out. */
  workers: intSetting('BENCH_WORKERS', 2, 1, 16),
  /** Pairs of load runs (1 process, then the workers) whose median ratio is the workers row. */
  workerPairs: intSetting('BENCH_WORKER_PAIRS', 5, 1, 20),
  /** The workers row's load client: wrk when installed (the cheapest in CPU), or the other rows' tool. */
  workersTool: process.env.BENCH_WORKERS_TOOL || 'wrk',
  /** Which load rows to profile, by key (C for the baseline, typename, checkAccess, viewer, runPrompt, rare, popular, runnablePrompts). */
  profileRows: (process.env.BENCH_PROFILE_ROWS ?? 'checkAccess,runPrompt').split(',').map((row) => row.trim()).filter(Boolean),
  json: process.env.BENCH_JSON || undefined,
};

if (settings.workersTool !== 'wrk' && settings.workersTool !== 'same') throw new Error('BENCH_WORKERS_TOOL is wrk (when installed) or same (the other rows\' tool)');

const here = dirname(fileURLToPath(import.meta.url));
const profileDir = join(here, 'profiles');
/** Per store: 13 load runs a round, the two serial runs and the mixed run, the workers' pairs, 1 s of warm-up per path, and room for seeding and start-up on a loaded machine. */
const perStoreSeconds = 10 + (13 * settings.rounds + 3 + 2 * settings.workerPairs) * settings.seconds + (settings.scale === 'large' ? 900 : 180);
const HARD_LIMIT_MS = (settings.stores.length * perStoreSeconds + 30) * 1000;

// ---- one store ------------------------------------------------------------------------------------------

interface RowFigure {
  key: string;
  name: string;
  /** req/s, or ms / MB for the rows that are not throughput. */
  value: number;
  unit: 'req/s' | 'ms' | 'MB' | '×';
  /** Mean of the C runs just before and just after this row. */
  baseline?: number;
  ratio?: number;
  /** Server CPU time per request (median over rounds), and C's divided by it: steadier than req/s on a busy machine. */
  cpuUs?: number;
  cpuRatio?: number;
  goal?: string;
  met?: boolean;
  p99Ms?: number;
}

interface StoreReport {
  store: string;
  label: string;
  loadAverage: { start: string; end: string };
  seed: Pick<SeedResult, 'counts' | 'shape' | 'seconds'>;
  cRuns: number[];
  rows: RowFigure[];
  loads: LoadResult[];
  runsRecorded?: { recorded: number; answered: number };
  profiles?: string[];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The workers row's load client: see settings.workersTool. */
function workersTool(rowsTool: LoadTool): LoadTool {
  if (settings.workersTool === 'same') return rowsTool;
  return wrkTool() ?? rowsTool;
}

async function benchStore(store: string, tool: LoadTool): Promise<StoreReport> {
  const db: BenchDatabase = await openBenchDatabase(store === 'postgres' ? settings.postgresUrl : undefined);
  const servers: BenchServer[] = [];
  const cleanup = async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await db.close();
  };
  active.add(cleanup);
  try {
    const loadAtStart = loadavg().map((l) => l.toFixed(2)).join(' ');
    console.log(`\n=== ${db.label} — seeding (${settings.scale})…`);
    const seed = await seedBenchData(db.orm, { ...DEFAULT_SEED, ...settings.seed });
    console.log(
      `  ${Object.entries(seed.counts)
        .map(([t, n]) => `${t} ${fmt(n)}`)
        .join(', ')}; seeded in ${seed.seconds.toFixed(1)} s (rows built ${seed.phases.buildSeconds.toFixed(1)} s, written ${seed.phases.writeSeconds.toFixed(1)} s, analyzed ${seed.phases.analyzeSeconds.toFixed(1)} s)`,
    );
    const rows = rowsFor(seed);
    const app = await startServer({ entry: 'bench/http-server.ts', env: { BENCH_SERVER_DATABASE: JSON.stringify(db.database) }, limitMs: HARD_LIMIT_MS });
    servers.push(app);
    const baseline = await startServer({ entry: 'bench/baseline-server.ts', limitMs: HARD_LIMIT_MS });
    servers.push(baseline);

    const cRow = { name: 'C `{ hello }`', body: body(Q.hello), token: 'bench', expect: (d: Record<string, unknown>) => d.hello === 'world' };
    const cSpec: LoadSpec = {
      name: 'C { hello }',
      url: baseline.url,
      headers: headers(cRow.token),
      body: cRow.body,
      expectBody: await firstAnswer(baseline.url, cRow),
      connections: settings.connections,
      seconds: settings.seconds,
    };
    const specs = new Map<string, LoadSpec>();
    for (const row of rows) {
      specs.set(row.key, {
        name: row.name,
        url: app.url,
        headers: headers(row.token),
        body: row.body,
        expectBody: await firstAnswer(app.url, row),
        connections: settings.connections,
        seconds: settings.seconds,
      });
    }
    let answeredRuns = 1; // the first answer above

    const loads: LoadResult[] = [];
    /** A load run, with the CPU time the server process spent per answered request. */
    const run = async (spec: LoadSpec, counted = true, using = tool) => {
      const server = servers.find((s) => s.url === spec.url)!;
      const before = (await server.stats()).cpuUs;
      const result = await using.run(spec);
      const cpuUsPerRequest = ((await server.stats()).cpuUs - before) / Math.max(1, result.requests);
      if (result.failures) throw new Error(`load "${spec.name}": ${result.failures} answers were not HTTP 200 with the expected body`);
      // Too slow is a figure, not an error: the large data set makes today's Integrate tab exceed the client's 10 s.
      if (result.timeouts) console.log(`  note: ${spec.name}: ${result.timeouts} requests unanswered within 10 s`);
      if (spec.body.includes('runPrompt')) answeredRuns += result.requests;
      if (counted) loads.push(result);
      return { ...result, cpuUsPerRequest };
    };

    // Warm-up, not counted: both processes JIT-compile their paths, caches and pools fill.
    console.log('  warm-up: 1 s of each path');
    await run({ ...cSpec, seconds: 1 }, false);
    for (const spec of specs.values()) await run({ ...spec, seconds: 1 }, false);

    if (settings.profile) {
      const files: string[] = [];
      mkdirSync(profileDir, { recursive: true });
      for (const key of settings.profileRows) {
        // Row C profiles the baseline server itself, for a side-by-side with the app's rows.
        const spec = key === 'C' ? cSpec : specs.get(key);
        if (!spec) throw new Error(`BENCH_PROFILE_ROWS: no row "${key}" (rows: C, ${[...specs.keys()].join(', ')})`);
        const server = key === 'C' ? baseline : app;
        const path = join(profileDir, `${store}-${settings.scale}-${key}.cpuprofile`);
        await server.ask({ type: 'profile-start', intervalUs: settings.profileIntervalUs });
        const result = await run(spec);
        await server.ask({ type: 'profile-stop', path });
        files.push(path);
        console.log(`  profiled ${spec.name}: ${fmt(result.requestsPerSec)} req/s, ${fmt(result.cpuUsPerRequest)} µs of server CPU per request, under the profiler → ${path}`);
      }
      return { store, label: db.label, loadAverage: { start: loadAtStart, end: loadavg().map((l) => l.toFixed(2)).join(' ') }, seed, cRuns: [], rows: [], loads, profiles: files };
    }

    // Interleaved: C, row, C, row, …, C, in each round; each row's ratio is to the mean of the C
    // runs just before and after it, and its figures are the medians over the rounds.
    const cRuns: number[] = [];
    const figures: RowFigure[] = [];
    const perRow = new Map<string, { rate: number; c: number; cpu: number; cCpu: number; p99: number }[]>();
    for (let round = 0; round < settings.rounds; round++) {
      let previous = await run(cSpec);
      cRuns.push(previous.requestsPerSec);
      for (const row of rows) {
        const result = await run(specs.get(row.key)!);
        const next = await run(cSpec);
        cRuns.push(next.requestsPerSec);
        const c = (previous.requestsPerSec + next.requestsPerSec) / 2;
        const cCpu = (previous.cpuUsPerRequest + next.cpuUsPerRequest) / 2;
        const list = perRow.get(row.key) ?? [];
        list.push({ rate: result.requestsPerSec, c, cpu: result.cpuUsPerRequest, cCpu, p99: result.p99Ms });
        perRow.set(row.key, list);
        console.log(
          `  round ${round + 1}: ${row.name}: ${fmt(result.requestsPerSec)} req/s = ${(result.requestsPerSec / c).toFixed(3)}× C ` +
            `(C ${fmt(previous.requestsPerSec)} / ${fmt(next.requestsPerSec)}); server CPU ${fmt(result.cpuUsPerRequest)} µs/req, C ${fmt(cCpu)}`,
        );
        previous = next;
      }
    }
    for (const row of rows) {
      const list = perRow.get(row.key)!;
      const ratio = median(list.map((r) => r.rate / r.c));
      figures.push({
        key: row.key,
        name: row.name,
        value: median(list.map((r) => r.rate)),
        unit: 'req/s',
        baseline: median(list.map((r) => r.c)),
        ratio,
        cpuUs: median(list.map((r) => r.cpu)),
        cpuRatio: median(list.map((r) => r.cCpu / r.cpu)),
        goal: row.goal === undefined ? undefined : `≥ ${row.goal}× C`,
        met: row.goal === undefined ? undefined : ratio >= row.goal,
        p99Ms: median(list.map((r) => r.p99)),
      });
    }

    /** One request at a time (the built-in client: sub-millisecond latencies), as a load run. */
    const oneAtATime = async (spec: LoadSpec) => {
      const result = await runBuiltin({ ...spec, connections: 1 });
      if (result.failures) throw new Error(`${result.name}: ${result.failures} failures`);
      loads.push(result);
      console.log(`  ${result.name}: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
      return result;
    };

    // The popular prompt, one request at a time: its own latency, with nothing queued before it.
    const popular = specs.get('popular')!;
    const serial = await oneAtATime({ ...popular, name: `${popular.name}, one request at a time` });
    figures.push({ key: 'popularSerialP99', name: 'popular prompt, one request at a time, p99', value: serial.p99Ms, unit: 'ms', goal: '≤ 5 ms', met: serial.p99Ms <= 5 });

    // The same page read every time, as the first request after a change reads it: a server of its
    // own with the cache off (KEY_CACHE=off, so the session and the prompt are read too). A kept
    // page costs the same at any size; this row says what the index walks cost (`npm run
    // bench:scale` compares it across data sets).
    const unkeptServer = await startServer({ entry: 'bench/http-server.ts', env: { BENCH_SERVER_DATABASE: JSON.stringify(db.database), KEY_CACHE: 'off' }, limitMs: HARD_LIMIT_MS });
    servers.push(unkeptServer);
    const unkeptSpec = { ...popular, url: unkeptServer.url, name: `${popular.name}, one request at a time, read every time (KEY_CACHE=off)` };
    await runBuiltin({ ...unkeptSpec, connections: 1, seconds: 1 });
    const unkept = await oneAtATime(unkeptSpec);
    await unkeptServer.stop();
    figures.push({ key: 'popularSerialUnkeptP99', name: 'popular prompt, one request at a time, page read every time (KEY_CACHE=off), p99', value: unkept.p99Ms, unit: 'ms' });

    // Mixed: partner apps checking keys while two dashboards refresh the popular prompt's Integrate tab.
    const check = specs.get('checkAccess')!;
    await app.ask({ type: 'reset' });
    const [mixedCheck, mixedPopular] = await Promise.all([
      run({ ...check, name: `${check.name}, while 2 connections load the popular prompt` }),
      run({ ...popular, name: `${popular.name}, 2 connections, at the same time`, connections: 2 }),
    ]);
    const afterMixed = await app.stats();
    const lastC = cRuns.at(-1)!; // the C run just before
    figures.push({
      key: 'mixedCheck',
      name: '`checkAccess` by a key while 2 connections load the popular prompt',
      value: mixedCheck!.requestsPerSec,
      unit: 'req/s',
      baseline: lastC,
      ratio: mixedCheck!.requestsPerSec / lastC,
      p99Ms: mixedCheck!.p99Ms,
    });
    figures.push({ key: 'eventLoopP99', name: 'event-loop delay p99 under that mixed load (server process)', value: afterMixed.eventLoopP99Ms, unit: 'ms' });
    console.log(
      `  mixed: checkAccess ${fmt(mixedCheck!.requestsPerSec)} req/s, popular ${fmt(mixedPopular!.requestsPerSec)} req/s; event-loop delay p50 ${afterMixed.eventLoopP50Ms.toFixed(2)} / p99 ${afterMixed.eventLoopP99Ms.toFixed(2)} / max ${afterMixed.eventLoopMaxMs.toFixed(1)} ms`,
    );
    figures.push({ key: 'rss', name: 'server RSS after the load', value: afterMixed.rssMb, unit: 'MB', goal: '≤ 250 MB', met: afterMixed.rssMb <= 250 });
    // The same after a full collection: what the app holds, apart from the garbage V8 had not
    // collected yet (on PostgreSQL much of a request's garbage outlives a young-generation cycle
    // while it waits on the network, and old-space collections are lazy).
    // (RSS stays where it was right after: V8 gives the pages back to the system later.)
    const collected = (await app.ask({ type: 'collect' })) as ServerStats;
    figures.push({ key: 'heapCollected', name: 'server heap in use after the load and a full garbage collection', value: collected.heapUsedMb, unit: 'MB' });
    const cStats = await baseline.stats();
    console.log(
      `  RSS: app ${afterMixed.rssMb.toFixed(0)} MB (heap ${afterMixed.heapUsedMb.toFixed(0)} MB); after a full collection ${collected.rssMb.toFixed(0)} MB (heap ${collected.heapUsedMb.toFixed(0)} MB); C ${cStats.rssMb.toFixed(0)} MB`,
    );

    // All the cores: checkAccess on one process, then on BENCH_WORKERS processes sharing a port
    // (node:cluster, as WORKERS does), each loaded right after the other, in pairs. Both sides are
    // new servers with the same warm-up, so the row compares process counts, not one process's
    // history with new ones. One pair moved from 1.27x to 1.82x between two runs of the same code as
    // the machine's other tenants came and went, so the figure is the median of several pairs
    // (BENCH_WORKER_PAIRS). The load client shares the machine's cores with the servers, so this
    // row takes the cheapest client there is (wrk when installed: bench/wrk.ts) and reports the
    // share of the CPUs it used.
    if (settings.workers > 1) {
      const pairTool = workersTool(tool);
      const serverEnv = { BENCH_SERVER_DATABASE: JSON.stringify(db.database) };
      const single = await startServer({ entry: 'bench/http-server.ts', env: serverEnv, limitMs: HARD_LIMIT_MS });
      servers.push(single);
      const several = await startServer({ entry: 'bench/http-server.ts', env: { ...serverEnv, BENCH_SERVER_WORKERS: String(settings.workers) }, limitMs: HARD_LIMIT_MS });
      servers.push(several);
      const onSingle = { ...check, url: single.url, name: `${check.name}, 1 process (beside ${settings.workers} workers)` };
      const onSeveral = { ...check, url: several.url, name: `${check.name}, ${settings.workers} workers` };
      // A longer warm-up than the other rows' for both: their processes are new.
      for (const spec of [onSingle, onSeveral]) await pairTool.run({ ...spec, seconds: Math.max(5, settings.seconds) });
      const pairs: { one: number; many: number; clientCores: number }[] = [];
      for (let pair = 0; pair < settings.workerPairs; pair++) {
        const one = await run(onSingle, true, pairTool);
        const many = await pairTool.run(onSeveral);
        if (many.failures) throw new Error(`load "${onSeveral.name}": ${many.failures} answers were not HTTP 200 with the expected body`);
        loads.push(many);
        const clientCores = (many.clientCpuSeconds ?? Number.NaN) / many.seconds;
        pairs.push({ one: one.requestsPerSec, many: many.requestsPerSec, clientCores });
        console.log(
          `  workers, pair ${pair + 1}: checkAccess ${fmt(one.requestsPerSec)} req/s on 1 process (${fmt(one.cpuUsPerRequest)} µs of CPU a request), ${fmt(many.requestsPerSec)} req/s on ${settings.workers} = ${(many.requestsPerSec / one.requestsPerSec).toFixed(2)}×; the load client (${pairTool.name}) used ${clientCores.toFixed(2)} of the machine's ${cpus().length} CPUs`,
        );
      }
      const scaling = median(pairs.map((p) => p.many / p.one));
      figures.push({
        key: 'workers',
        name: `\`checkAccess\` with ${settings.workers} workers (node:cluster) ÷ 1 process, median of ${pairs.length} pairs (load from ${pairTool.name}, on ${median(pairs.map((p) => p.clientCores)).toFixed(2)} of the ${cpus().length} CPUs)`,
        value: scaling,
        unit: '×',
        goal: store === 'postgres' ? '≥ 1.6×' : undefined,
        met: store === 'postgres' ? scaling >= 1.6 : undefined,
      });
      await several.stop();
      await single.stop();
    }

    // Every run answered SUCCEEDED must be recorded (a load run may leave a few in flight at its end).
    const [counted] = await db.orm.em.fork().getConnection().execute(`select count(*) as n from runs where status = 'SUCCEEDED'`);
    const recorded = Number((counted as { n: number | string }).n);
    console.log(`  runs recorded SUCCEEDED: ${fmt(recorded)}; answered SUCCEEDED to the load client: ${fmt(answeredRuns)}`);

    return {
      store,
      label: db.label,
      loadAverage: { start: loadAtStart, end: loadavg().map((l) => l.toFixed(2)).join(' ') },
      seed: { counts: seed.counts, shape: seed.shape, seconds: seed.seconds },
      cRuns,
      rows: figures,
      loads,
      runsRecorded: { recorded, answered: answeredRuns },
    };
  } finally {
    await cleanup();
    active.delete(cleanup);
  }
}

function table(report: StoreReport): string {
  const lines = [
    '| path | figure | C (same run) | × C | server CPU µs/req | × C by CPU | p99 under load | goal | |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const f of report.rows) {
    const mark = f.met === undefined ? '' : f.met ? '✓' : '✗';
    const figure = f.unit === 'req/s' ? `${fmt(f.value)} req/s` : f.unit === '×' ? `${f.value.toFixed(2)}×` : `${fmt(f.value, f.unit === 'ms' ? 2 : 0)} ${f.unit}`;
    const c = f.baseline === undefined ? '' : `${fmt(f.baseline)} req/s`;
    const ratio = f.ratio === undefined ? '' : `**${f.ratio.toFixed(3)}×**`;
    const cpu = f.cpuUs === undefined ? '' : fmt(f.cpuUs);
    const cpuRatio = f.cpuRatio === undefined ? '' : `${f.cpuRatio.toFixed(3)}×`;
    const p99 = f.p99Ms === undefined ? '' : `${fmt(f.p99Ms)} ms`;
    lines.push(`| ${f.name} | ${figure} | ${c} | ${ratio} | ${cpu} | ${cpuRatio} | ${p99} | ${f.goal ?? '—'} | ${mark} |`);
  }
  return lines.join('\n');
}

// ---- main -------------------------------------------------------------------------------------------------

const active = new Set<() => Promise<void>>();

async function main(): Promise<number> {
  const started = performance.now();
  const date = new Date().toISOString();
  const tool = await loadTool();
  console.log(
    `PromptGate vs baseline C — ${date}, Node ${process.version}, ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, ${tool.name}, ` +
      `${settings.connections} connections, ${settings.seconds} s per load run, ${settings.rounds} round(s), scale ${settings.scale}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const hardStop = setTimeout(() => {
    console.error(`bench: over ${HARD_LIMIT_MS / 1000} s; stopping the servers and removing the databases`);
    void Promise.allSettled([...active].map((f) => f())).finally(() => process.exit(2));
  }, HARD_LIMIT_MS);
  hardStop.unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void Promise.allSettled([...active].map((f) => f())).finally(() => process.exit(130)));
  }

  const reports: StoreReport[] = [];
  for (const store of settings.stores) reports.push(await benchStore(store, tool));

  for (const report of reports) {
    if (report.profiles) {
      for (const path of report.profiles) {
        console.log(`\n## CPU profile — ${report.store}, ${path.split('/').pop()}\n`);
        console.log(summariseProfile(path));
      }
      continue;
    }
    console.log(`\n## ${report.label.split(' ')[0]} — scale ${settings.scale}, load average ${report.loadAverage.start} → ${report.loadAverage.end}\n`);
    console.log(table(report));
    console.log(`\nC runs (req/s, in order): ${report.cRuns.map((c) => fmt(c)).join(', ')}`);
    if (report.runsRecorded) console.log(`runs recorded SUCCEEDED ${fmt(report.runsRecorded.recorded)}, answered SUCCEEDED ${fmt(report.runsRecorded.answered)} (the difference: requests in flight when a load run was cut)`);
  }
  if (settings.json) {
    writeFileSync(settings.json, JSON.stringify({ date, node: process.version, cpus: cpus().length, tool: tool.name, settings, reports }, null, 2));
    console.log(`\nresults written to ${settings.json}`);
  }
  console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s in all`);
  clearTimeout(hardStop);
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    console.error(`bench failed: ${text.slice(0, 2000)}`);
    await Promise.allSettled([...active].map((f) => f()));
    process.exit(1);
  },
);
