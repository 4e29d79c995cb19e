/**
 * `npm run bench:scale`: does the Integrate tab cost what its page costs, whatever the number of
 * keys? The hot-path issue's goal: the popular prompt's first page and total, at 100,000 keys and
 * 1,000,000 grants, in no more than 1.5× the time at 10,000 keys and 100,000 grants.
 *
 * On each store it seeds both data sets (bench/seed.ts, SEED_SCALES default and large) and starts
 * two servers on each: one as configured (the page is kept in the access cache once read) and one
 * with KEY_CACHE=off (every request reads the session, the prompt and the page, as a first request
 * does). Then it asks the popular prompt's first page one request at a time of the four servers in
 * turn, round after round: a machine that slows down or speeds up during the run does so for both
 * data sets alike, which comparing two separate `npm run bench` runs cannot promise (runs of the same
 * code differ by up to a half here). Each figure is the median over the rounds.
 *
 *   npm run bench:scale                            # both stores, 5 rounds of 3 s per server
 *   BENCH_STORES=postgres npm run bench:scale      # one store
 *
 * Traffic goes only to 127.0.0.1; the servers stop with the run and the databases are removed.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { openBenchDatabase, type BenchDatabase } from './db.ts';
import { runBuiltin } from './load.ts';
import { markdownTable, median } from './measure.ts';
import { firstAnswer, headers, rowsFor } from './rows.ts';
import { DEFAULT_SEED, SEED_SCALES, seedBenchData } from './seed.ts';
import { startServer, type BenchServer } from './servers.ts';
import { intSetting, postgresUrlSetting, storesSetting } from './settings.ts';

const settings = {
  stores: storesSetting('sqlite,postgres'),
  seconds: intSetting('BENCH_SECONDS', 3, 1, 60),
  rounds: intSetting('BENCH_ROUNDS', 5, 1, 20),
  postgresUrl: postgresUrlSetting(),
  json: process.env.BENCH_JSON || undefined,
};
/** The goal: the large data set's median latency within this many times the default's. */
const GOAL = 1.5;
/** Seeding the large data set took up to 290 s on SQLite on a busy day; the rest is the rounds. */
const LIMIT_MS = (600 + 4 * settings.rounds * (settings.seconds + 1) + 60) * 1000;

interface Target {
  scale: string;
  cache: 'kept' | 'off';
  server: BenchServer;
  body: string;
  token: string | undefined;
  expectBody: string;
  p50: number[];
  p99: number[];
}

interface StoreResult {
  store: string;
  eligible: Record<string, number>;
  figures: { scale: string; cache: Target['cache']; p50Ms: number; p99Ms: number }[];
  ratios: { cache: Target['cache']; p50: number; p99: number; met: boolean }[];
}

async function benchStore(store: string): Promise<StoreResult> {
  const databases: BenchDatabase[] = [];
  const servers: BenchServer[] = [];
  try {
    const targets: Target[] = [];
    const eligible: Record<string, number> = {};
    for (const scale of ['default', 'large']) {
      const db = await openBenchDatabase(store === 'postgres' ? settings.postgresUrl : undefined);
      databases.push(db);
      const started = performance.now();
      const seed = await seedBenchData(db.orm, { ...DEFAULT_SEED, ...SEED_SCALES[scale] });
      eligible[scale] = seed.shape.popularEligible;
      console.log(`  ${db.label}: ${scale} data set seeded in ${((performance.now() - started) / 1000).toFixed(0)} s; the popular prompt reaches ${seed.shape.popularEligible.toLocaleString('en-US')} keys`);
      const popular = rowsFor(seed).find((row) => row.key === 'popular')!;
      for (const cache of ['kept', 'off'] as const) {
        const env: Record<string, string> = { BENCH_SERVER_DATABASE: JSON.stringify(db.database) };
        if (cache === 'off') env.KEY_CACHE = 'off';
        const server = await startServer({ entry: 'bench/http-server.ts', env, limitMs: LIMIT_MS });
        servers.push(server);
        const expectBody = await firstAnswer(server.url, popular);
        targets.push({ scale, cache, server, body: popular.body, token: popular.token, expectBody, p50: [], p99: [] });
      }
    }
    const load = (target: Target, seconds: number) =>
      runBuiltin({ name: `${target.scale}, ${target.cache}`, url: target.server.url, headers: headers(target.token), body: target.body, expectBody: target.expectBody, connections: 1, seconds });
    for (const target of targets) await load(target, 1);
    for (let round = 1; round <= settings.rounds; round++) {
      for (const target of targets) {
        const result = await load(target, settings.seconds);
        if (result.failures) throw new Error(`${store}, ${target.scale}, cache ${target.cache}: ${result.failures} answers were not the expected page`);
        target.p50.push(result.p50Ms);
        target.p99.push(result.p99Ms);
        console.log(`  round ${round}: ${target.scale}, page ${target.cache === 'kept' ? 'kept' : 'read every time'}: p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`);
      }
    }
    const figures = targets.map((t) => ({ scale: t.scale, cache: t.cache, p50Ms: median(t.p50), p99Ms: median(t.p99) }));
    const ratios = (['kept', 'off'] as const).map((cache) => {
      const [small, large] = ['default', 'large'].map((scale) => figures.find((f) => f.scale === scale && f.cache === cache)!);
      const p50 = large!.p50Ms / small!.p50Ms;
      return { cache, p50, p99: large!.p99Ms / small!.p99Ms, met: p50 <= GOAL };
    });
    return { store, eligible, figures, ratios };
  } finally {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await Promise.allSettled(databases.map((db) => db.close()));
  }
}

const label: Record<Target['cache'], string> = { kept: 'kept once read (as served)', off: 'read every time (KEY_CACHE=off)' };
console.log(`PromptGate, the Integrate tab at two sizes — ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPU(s), ${settings.rounds} rounds of ${settings.seconds} s per server; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const results: StoreResult[] = [];
for (const store of settings.stores) {
  console.log(`\n=== ${store === 'postgres' ? 'PostgreSQL' : 'SQLite'}`);
  const result = await benchStore(store);
  results.push(result);
  console.log(`\n## ${store === 'postgres' ? 'PostgreSQL' : 'SQLite'}: \`availableApiKeys(first: 20)\` of the popular prompt, one request at a time (medians of ${settings.rounds} rounds)\n`);
  console.log(
    markdownTable(
      ['page', `default (${result.eligible.default!.toLocaleString('en-US')} keys) p50 / p99`, `large (${result.eligible.large!.toLocaleString('en-US')} keys) p50 / p99`, 'large ÷ default, p50 / p99', `goal ≤ ${GOAL}× (p50)`],
      result.ratios.map((ratio) => {
        const at = (scale: string) => result.figures.find((f) => f.scale === scale && f.cache === ratio.cache)!;
        return [
          label[ratio.cache],
          `${at('default').p50Ms.toFixed(2)} / ${at('default').p99Ms.toFixed(2)} ms`,
          `${at('large').p50Ms.toFixed(2)} / ${at('large').p99Ms.toFixed(2)} ms`,
          `**${ratio.p50.toFixed(2)}×** / ${ratio.p99.toFixed(2)}×`,
          ratio.met ? '✓' : '✗',
        ];
      }),
    ),
  );
}
if (settings.json) writeFileSync(settings.json, JSON.stringify({ at: new Date().toISOString(), node: process.version, settings, results }, null, 2));
