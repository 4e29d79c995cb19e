/**
 * One path of the app through `app.fetch`, in this process, no socket: CPU µs per request for a
 * quick before/after while working on a hot path (the full comparison with C is bench/compare.ts).
 *
 *   npm run bench:in-process -- [row …]     rows: C typename checkAccess viewer runPrompt rare popular runnable
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:in-process
 *
 * It runs bundled (scripts/build-server.ts), as `npm start` runs the server: through tsx every
 * function would carry keepNames' naming call, which the server does not.
 *
 * BENCH_REQUESTS (default 3000) requests per row, 10 at a time, after 500 not counted.
 * Row C is baseline C's app (bench/baseline-app.ts) answering `{ hello }` with a bearer token, in
 * this process too: when C ran first, each row also shows C's CPU per request over its own, the in-process
 * counterpart of the bench's throughput ratio.
 *
 * BENCH_PROFILE=1 writes each row's CPU profile (the counted requests only) to
 * bench/profiles/in-process-<row>.cpuprofile (from the project's root); bench/profile-summary.ts
 * summarises it, with the bundle's frames mapped back to their sources.
 * BENCH_PROFILE=heap samples allocations instead (bench/profiles/in-process-<row>.heapprofile, bytes
 * allocated per function, collected or not): garbage collection is a large share of every key
 * request, and this shows who makes the garbage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver } from 'node:perf_hooks';
import { createLogger } from '../server/logger.ts';
import { createApp } from '../server/yoga.ts';
import { createBaselineYoga } from './baseline-app.ts';
import { openBenchDatabase } from './db.ts';
import { seedBenchData } from './seed.ts';

const requests = Number(process.env.BENCH_REQUESTS ?? 3000);
const concurrency = 10;
const db = await openBenchDatabase(process.env.BENCH_DATABASE_URL);
try {
  const seed = await seedBenchData(db.orm);
  const app = createApp({ orm: db.orm, config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000 }, logger: createLogger('error', () => undefined) });
  const key = seed.keys.viaFlow;
  const baseline = createBaselineYoga();
  const rows: Record<string, { query: string; variables?: object; token?: string; app?: typeof baseline }> = {
    C: { query: '{ hello }', token: key.secret, app: baseline },
    typename: { query: '{ __typename }' },
    checkAccess: { query: 'query Check($promptId: ID!) { checkAccess(promptId: $promptId) { allowed reason } }', variables: { promptId: key.promptId }, token: key.secret },
    viewer: { query: '{ viewer { apiKey { id access status } } }', token: key.secret },
    runPrompt: { query: 'mutation Run($input: RunPromptInput!) { runPrompt(input: $input) { status } }', variables: { input: { promptId: key.promptId, inputs: { question: 'Why is the sky blue?' } } }, token: key.secret },
    rare: { query: 'query Available($promptId: ID!) { availableApiKeys(promptId: $promptId, first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { id name access status } } }', variables: { promptId: seed.rarePromptId }, token: seed.sessionToken },
    popular: { query: 'query Available($promptId: ID!) { availableApiKeys(promptId: $promptId, first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { id name access status } } }', variables: { promptId: seed.popularPromptId }, token: seed.sessionToken },
    runnable: { query: 'query Runnable($id: ID!) { apiKey(id: $id) { runnablePrompts(first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { prompt { id name } via { kind flow { id } } } } } }', variables: { id: seed.insight.key.id }, token: seed.insight.key.secret },
  };
  const chosen = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(rows);
  let baselineMicros: number | undefined;
  for (const name of chosen) {
    const row = rows[name];
    if (!row) throw new Error(`no row ${name}`);
    const body = JSON.stringify({ query: row.query, variables: row.variables });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    if (row.token) headers.authorization = `Bearer ${row.token}`;
    const one = async () => {
      const response = await (row.app ?? app).fetch('http://localhost/graphql', { method: 'POST', headers, body });
      const text = await response.text();
      if (response.status !== 200 || text.includes('"errors"')) throw new Error(`${name}: ${response.status} ${text.slice(0, 300)}`);
    };
    const drive = async (n: number) => {
      let left = n;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await one();
      }));
    };
    // What earlier rows (and the seeding) left behind is collected now, not in this row's time.
    (globalThis as { gc?: () => void }).gc?.();
    await drive(500);
    const profiling = process.env.BENCH_PROFILE;
    const session = profiling === '1' || profiling === 'heap' ? new Session() : undefined;
    if (session) {
      mkdirSync(join('bench', 'profiles'), { recursive: true });
      session.connect();
      if (profiling === 'heap') {
        await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      } else {
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 200 });
        await session.post('Profiler.start');
      }
    }
    // Garbage collection's pauses during the counted requests (main thread; helper threads not counted).
    let gcMs = 0;
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcMs += entry.duration;
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const cpu = process.cpuUsage();
    const started = performance.now();
    await drive(requests);
    const used = process.cpuUsage(cpu);
    const wall = performance.now() - started;
    // Entries are delivered asynchronously: give the observer its turn before reading the sum.
    await new Promise((resolve) => setTimeout(resolve, 100));
    gcObserver.disconnect();
    if (session) {
      const file = join('bench', 'profiles', `in-process-${name}.${profiling === 'heap' ? 'heapprofile' : 'cpuprofile'}`);
      const { profile } = profiling === 'heap' ? await session.post('HeapProfiler.stopSampling') : await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    }
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const micros = (used.user + used.system) / requests;
    baselineMicros ??= name === 'C' ? micros : undefined;
    const ratio = baselineMicros ? `  = ${(baselineMicros / micros).toFixed(2).padStart(4)}× C` : '';
    console.log(
      `${name.padEnd(12)} ${micros.toFixed(0).padStart(6)} µs CPU/req${ratio}, GC pauses ${((gcMs * 1000) / requests).toFixed(0).padStart(4)} µs/req  ${(requests / (wall / 1000)).toFixed(0).padStart(6)} req/s  rss ${(memory.rss / 1048576).toFixed(0)} MB, heap ${(memory.heapUsed / 1048576).toFixed(0)} MB`,
    );
  }
} finally {
  await db.close();
}
