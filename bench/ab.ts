/**
 * `npm run bench:ab -- <revision> [row …]`: the working tree against an earlier revision, both
 * served side by side on one seeded database and loaded in turn, for a before/after that this
 * shared, noisy machine cannot blur: the two servers take turns every few seconds, so a machine
 * that speeds up or slows down moves both sides of each ratio. Each row prints the working tree's
 * requests per second and server CPU per request as a ratio to the revision's (above 1: faster).
 *
 *   npm run bench:ab -- HEAD                         # uncommitted changes against the last commit
 *   npm run bench:ab -- HEAD~3 checkAccess viewer    # some rows only
 *   BENCH_STORES=postgres BENCH_ROUNDS=5 npm run bench:ab -- main
 *
 * Rows: typename checkAccess viewer runPrompt rare popular runnablePrompts (bench/rows.ts).
 * BENCH_SECONDS (default 4) per load run, BENCH_ROUNDS (default 3) turns of each side per row,
 * BENCH_CONNECTIONS (default 10), BENCH_STORES (default sqlite).
 *
 * The revision's server/, bench/ and scripts/ are taken with `git archive` and bundled beside the
 * working tree's, with this checkout's node_modules. Both run on the schema of the working tree's
 * migrations: a revision whose entities differ from them, or that imports a package no longer
 * installed, cannot be compared this way.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBenchDatabase, type BenchDatabase } from './db.ts';
import { loadTool, type LoadSpec, type LoadTool } from './load.ts';
import { median } from './measure.ts';
import { firstAnswer, headers, rowsFor } from './rows.ts';
import { seedBenchData } from './seed.ts';
import { startServer, type BenchServer } from './servers.ts';
import { intSetting, postgresUrlSetting, storesSetting } from './settings.ts';

const [revision, ...chosenRows] = process.argv.slice(2);
if (!revision) throw new Error('usage: npm run bench:ab -- <revision> [row …]');
const seconds = intSetting('BENCH_SECONDS', 4, 1, 60);
const rounds = intSetting('BENCH_ROUNDS', 3, 1, 20);
const connections = intSetting('BENCH_CONNECTIONS', 10, 1, 100);
const stores = storesSetting('sqlite');
const postgresUrl = postgresUrlSetting();
const commit = execFileSync('git', ['rev-parse', '--short', revision], { encoding: 'utf8' }).trim();
const limitMs = (stores.length * (300 + rounds * 2 * 8 * (seconds + 1)) + 60) * 1000;

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** The revision's sources, in a directory of their own; the bundle resolves packages from here. */
function checkoutRevision(): string {
  const dir = mkdtempSync(join(tmpdir(), `promptgate-ab-${commit}-`));
  const archive = execFileSync('git', ['archive', '--format=tar', commit, 'server', 'bench', 'scripts'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  return dir;
}

async function compareStore(store: string, tool: LoadTool, revisionDir: string): Promise<void> {
  let db: BenchDatabase | undefined;
  const servers: BenchServer[] = [];
  try {
    db = await openBenchDatabase(store === 'postgres' ? postgresUrl : undefined);
    console.log(`\n## ${db.label}: working tree ÷ ${commit}\n`);
    const seed = await seedBenchData(db.orm);
    const env = { BENCH_SERVER_DATABASE: JSON.stringify(db.database) };
    const before = await startServer({ entry: join(revisionDir, 'bench/http-server.ts'), outfile: 'dist/bench/ab-revision.mjs', env, limitMs });
    servers.push(before);
    const after = await startServer({ entry: 'bench/http-server.ts', outfile: 'dist/bench/ab-working-tree.mjs', env, limitMs });
    servers.push(after);
    const rows = rowsFor(seed).filter((row) => !chosenRows.length || chosenRows.includes(row.key));
    if (!rows.length) throw new Error(`no row among ${chosenRows.join(', ')}`);

    console.log('| path | working tree req/s | revision req/s | × req/s | CPU µs/req (tree / revision) | × CPU |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const row of rows) {
      const specOf = (server: BenchServer): Promise<LoadSpec> =>
        firstAnswer(server.url, row).then((expectBody) => ({ name: row.name, url: server.url, headers: headers(row.token), body: row.body, expectBody, connections, seconds }));
      const specs = [await specOf(before), await specOf(after)] as const;
      const measure = async (side: 0 | 1) => {
        const server = side === 0 ? before : after;
        const cpuBefore = (await server.stats()).cpuUs;
        const result = await tool.run(specs[side]);
        if (result.failures) throw new Error(`${row.name}: ${result.failures} answers were not HTTP 200 with the expected body`);
        return { rps: result.requestsPerSec, cpu: ((await server.stats()).cpuUs - cpuBefore) / Math.max(1, result.requests) };
      };
      // Warm-up of both, not counted.
      await tool.run({ ...specs[0], seconds: 1 });
      await tool.run({ ...specs[1], seconds: 1 });
      const figures: { rps: number; cpu: number }[][] = [[], []];
      for (let round = 0; round < rounds; round++) {
        // The side that goes first alternates, so that neither always follows the other's garbage.
        const order: (0 | 1)[] = round % 2 ? [1, 0] : [0, 1];
        for (const side of order) figures[side]!.push(await measure(side));
      }
      const rps = figures.map((list) => median(list.map((f) => f.rps)));
      const cpu = figures.map((list) => median(list.map((f) => f.cpu)));
      console.log(`| ${row.name} | ${fmt(rps[1]!)} | ${fmt(rps[0]!)} | **${(rps[1]! / rps[0]!).toFixed(3)}×** | ${fmt(cpu[1]!)} / ${fmt(cpu[0]!)} | ${(cpu[0]! / cpu[1]!).toFixed(3)}× |`);
    }
  } finally {
    for (const server of servers) await server.stop().catch(() => undefined);
    await db?.close();
  }
}

const revisionDir = checkoutRevision();
try {
  mkdirSync('dist/bench', { recursive: true });
  const tool = await loadTool();
  console.log(`bench:ab: ${tool.name}, ${connections} connections, ${seconds} s a run, ${rounds} rounds a side, the working tree against ${commit}`);
  for (const store of stores) await compareStore(store, tool, revisionDir);
} finally {
  rmSync(revisionDir, { recursive: true, force: true });
}
process.exit(0);
