/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`, or bench/compare.ts with BENCH_PROFILE=1):
 * where the busy time of the process went, grouped by package (mikro-orm, knex, better-sqlite3,
 * pg, graphql, yoga, pothos, our code, node, GC, …), as self time (the function on top of the
 * stack) and inclusive time (the package anywhere on the stack, each sample counted once), and
 * the top functions by each.
 *
 *   node --import tsx bench/profile-summary.ts bench/profiles/sqlite-default-checkAccess.cpuprofile
 *
 * A .heapprofile (bench/in-process.ts with BENCH_PROFILE=heap) is read the same way, with bytes
 * allocated in place of time: its shares are of all the bytes the sampled requests allocated.
 *
 * Frames without a script (V8 builtins and native bindings such as better-sqlite3's statement
 * methods) take the package of the nearest caller that has one, marked "(native)", so that a
 * driver's native work is not lost among "builtins".
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The package a script belongs to, by its path. */
export function packageOf(url: string): string | undefined {
  if (!url) return undefined;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    const name = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    if (name.startsWith('@mikro-orm/')) return 'mikro-orm';
    if (name === 'knex') return 'knex';
    if (name === 'better-sqlite3' || name === 'bindings') return 'better-sqlite3';
    if (name === 'pg' || name.startsWith('pg-') || name === 'postgres-array' || name === 'postgres-date' || name === 'postgres-interval') return 'pg';
    if (name === 'graphql') return 'graphql';
    if (name === 'graphql-yoga' || name.startsWith('@graphql-yoga/') || name.startsWith('@whatwg-node/') || name.startsWith('@envelop/')) return 'yoga (+ envelop, whatwg-node)';
    if (name.startsWith('@graphql-tools/')) return 'graphql-tools';
    if (name.startsWith('@pothos/')) return 'pothos';
    if (name.startsWith('@escape.tech/')) return 'graphql-armor';
    if (name === 'tsx' || name === 'esbuild') return 'tsx (loader)';
    return name;
  }
  if (url.includes('/server/')) return 'our code (server/)';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:') || !url.includes('/')) return 'node core';
  return 'other';
}

// A Map, not an object: function names such as "constructor" must not find Object.prototype's.
const SPECIAL = new Map<string, string>([
  ['(garbage collector)', 'GC'],
  ['(program)', 'V8 / native (program)'],
  ['(idle)', 'idle'],
  ['(root)', 'idle'],
]);

interface Row {
  name: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  wallMs: number;
  busyMs: number;
  packages: Row[];
  functions: Row[];
}

/**
 * Frames of a bundle (the servers run from scripts/build-server.ts's output) are put back at their
 * source file and line through the bundle's source map, so packages and functions read as in the
 * sources.
 */
function toSourceFrames(profile: Profile): void {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (url: string): SourceMap | undefined => {
    if (!maps.has(url)) {
      const file = url.startsWith('file://') ? fileURLToPath(url) : url;
      maps.set(url, url.endsWith('.mjs') && existsSync(`${file}.map`) ? new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))) : undefined);
    }
    return maps.get(url);
  };
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    const map = frame.url ? mapOf(frame.url) : undefined;
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource) {
      frame.url = entry.originalSource;
      frame.lineNumber = entry.originalLine ?? frame.lineNumber;
    }
  }
}

export function analyseProfile(profile: Profile): ProfileSummary {
  toSourceFrames(profile);
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  // Category and function label of each node; native frames inherit their caller's package.
  const category = new Map<number, string>();
  const label = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const known = category.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const special = SPECIAL.get(node.callFrame.functionName);
    let result: string;
    if (special) result = special;
    else {
      const own = packageOf(node.callFrame.url);
      if (own) result = own;
      else {
        const up = parent.get(id);
        // better-sqlite3's statements are native methods called straight from knex's dialect.
        if (up !== undefined && /dialects\/better-sqlite3/.test(byId.get(up)!.callFrame.url)) {
          category.set(id, 'better-sqlite3 (native)');
          return 'better-sqlite3 (native)';
        }
        const inherited = up === undefined ? 'V8 / native (program)' : categoryOf(up).replace(/ \(native\)$/, '');
        result = SPECIAL.has(byId.get(up ?? -1)?.callFrame.functionName ?? '') ? 'V8 / native (program)' : `${inherited} (native)`;
      }
    }
    category.set(id, result);
    return result;
  };
  const labelOf = (id: number): string => {
    const known = label.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? url.replace(/^.*\/node_modules\//, '').replace(/^.*\/(server|bench)\//, '$1/').replace(/^file:\/\//, '') : '';
    const result = `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : `[${categoryOf(id)}]`}`;
    label.set(id, result);
    return result;
  };

  const pkgSelf = new Map<string, number>();
  const pkgTotal = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnTotal = new Map<string, number>();
  let wall = 0;
  let busy = 0;
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  for (let i = 0; i < profile.samples.length; i++) {
    // timeDeltas[i] is the time before sample i; the time of sample i is the next delta.
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const leaf = profile.samples[i]!;
    wall += ms;
    const leafCategory = categoryOf(leaf);
    if (leafCategory === 'idle') continue;
    busy += ms;
    add(pkgSelf, leafCategory, ms);
    add(fnSelf, labelOf(leaf), ms);
    const seenPkg = new Set<string>();
    const seenFn = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const c = categoryOf(id).replace(/ \(native\)$/, '');
      if (c === 'idle') continue;
      if (!seenPkg.has(c)) {
        seenPkg.add(c);
        add(pkgTotal, c, ms);
      }
      const f = labelOf(id);
      if (!seenFn.has(f)) {
        seenFn.add(f);
        add(fnTotal, f, ms);
      }
    }
  }
  const rows = (self: Map<string, number>, total: Map<string, number>) =>
    [...new Set([...self.keys(), ...total.keys()])].map((name) => ({ name, selfMs: self.get(name) ?? 0, totalMs: total.get(name) ?? 0 }));
  return { wallMs: wall, busyMs: busy, packages: rows(pkgSelf, pkgTotal), functions: rows(fnSelf, fnTotal) };
}

interface HeapNode {
  id: number;
  callFrame: ProfileNode['callFrame'];
  selfSize: number;
  children: HeapNode[];
}

/**
 * A sampling heap profile as a CPU profile whose samples weigh bytes: one sample per allocating
 * frame, its "time delta" the bytes allocated there.
 */
export function heapAsProfile(heap: { head: HeapNode }): Profile {
  const nodes: ProfileNode[] = [];
  const samples: number[] = [];
  const timeDeltas: number[] = [0];
  const visit = (node: HeapNode) => {
    nodes.push({ id: node.id, callFrame: node.callFrame, children: node.children.map((child) => child.id) });
    if (node.selfSize > 0) {
      samples.push(node.id);
      timeDeltas.push(node.selfSize);
    }
    node.children.forEach(visit);
  };
  visit(heap.head);
  return { nodes, samples, timeDeltas, startTime: 0, endTime: 0 };
}

export function summariseProfile(path: string, top = 15): string {
  const heap = path.endsWith('.heapprofile');
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Profile & { head: HeapNode };
  const s = analyseProfile(heap ? heapAsProfile(parsed) : parsed);
  const pct = (ms: number) => `${((100 * ms) / s.busyMs).toFixed(1)}%`;
  const out: string[] = [];
  out.push(
    heap
      ? `${(s.busyMs / 1000).toFixed(1)} MB allocated by the sampled requests; shares below are of those bytes`
      : `${(s.wallMs / 1000).toFixed(1)} s profiled, ${(s.busyMs / 1000).toFixed(1)} s busy (${((100 * s.busyMs) / s.wallMs).toFixed(0)}%); shares below are of the busy time`,
  );
  out.push('', '| package | self | inclusive |', '| --- | --- | --- |');
  for (const r of s.packages.filter((r) => r.selfMs > 0).sort((a, b) => b.selfMs - a.selfMs)) out.push(`| ${r.name} | ${pct(r.selfMs)} | ${r.totalMs ? pct(r.totalMs) : ''} |`);
  out.push('', `top ${top} functions by self time:`, '', '| function | self | inclusive |', '| --- | --- | --- |');
  for (const r of [...s.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) out.push(`| \`${r.name}\` | ${pct(r.selfMs)} | ${pct(r.totalMs)} |`);
  out.push('', `top ${top} functions by inclusive time (outside node core and the HTTP server's own frames):`, '', '| function | inclusive | self |', '| --- | --- | --- |');
  const skip = /\[node core|\(anonymous\) \[|node:|^(processTicksAndRejections|emit|listOnTimeout|runMicrotasks)/;
  for (const r of [...s.functions].filter((r) => !skip.test(r.name)).sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) out.push(`| \`${r.name}\` | ${pct(r.totalMs)} | ${pct(r.selfMs)} |`);
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const paths = process.argv.slice(2);
  if (!paths.length) throw new Error('usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile|FILE.heapprofile…');
  for (const path of paths) console.log(`\n## ${path}\n\n${summariseProfile(path)}`);
}
