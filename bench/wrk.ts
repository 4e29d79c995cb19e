/**
 * wrk (https://github.com/wg/wrk, Debian's package `wrk`) as a load tool, when it is installed:
 * a load client written in C that spends about a third of autocannon's CPU per request. The
 * workers row uses it because on a two-core machine the load client shares the cores it measures
 * the servers on (bench/README.md, "All the cores").
 *
 * One wrk thread drives `connections` keep-alive connections, one request at a time on each, as
 * autocannon does. A Lua script sends the row's request and compares every answer with the
 * expected body; its `done` hook prints the figures as one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertLoopback, type LoadSpec, type LoadTool } from './load.ts';
import type { LoadResult } from './measure.ts';

/** wrk's version line, or undefined when it is not on the PATH. */
function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  // "wrk debian/4.1.0-3+b2 [epoll] Copyright …" (printed with the usage text, exit code 1)
  const match = /^wrk (\S+)/.exec(probe.stdout + probe.stderr);
  return match ? match[1]!.replace(/^debian\//, '').replace(/-[^-]*$/, '') : undefined;
}

export function wrkTool(): LoadTool | undefined {
  const version = wrkVersion();
  if (!version) return undefined;
  const name = `wrk ${version}`;
  return { name, run: (spec) => runWrk(spec, name) };
}

/** A Lua long string holding `text` verbatim (no escapes to get wrong: bodies hold quotes and backslashes). */
function luaString(text: string): string {
  let level = '';
  while (text.includes(`]${level}]`)) level += '=';
  // A newline right after the opening bracket is dropped by Lua, so one is always put there.
  return `[${level}[\n${text}]${level}]`;
}

function script(spec: LoadSpec): string {
  // (The spaces in `[ [[…]] ]` keep Lua from reading `[[[` as the start of a long string.)
  const headers = Object.entries(spec.headers).map(([name, value]) => `wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  return `
wrk.method = "POST"
wrk.body = ${luaString(spec.body)}
${headers.join('\n')}
local expected = ${luaString(spec.expectBody)}

local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) mismatches = 0 end
function response(status, headers, body)
  if status ~= 200 or body ~= expected then mismatches = mismatches + 1 end
end
function done(summary, latency, requests)
  local mismatched = 0
  for _, thread in ipairs(threads) do mismatched = mismatched + thread:get("mismatches") end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"mismatches":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, mismatched,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;
}

interface WrkFigures {
  requests: number;
  durationUs: number;
  connect: number;
  read: number;
  write: number;
  timeout: number;
  mismatches: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

async function runWrk(spec: LoadSpec, tool: string): Promise<LoadResult> {
  assertLoopback(spec.url);
  const dir = mkdtempSync(join(tmpdir(), 'promptgate-wrk-'));
  try {
    const path = join(dir, 'load.lua');
    writeFileSync(path, script(spec));
    // bash's `time` reports the CPU wrk used (user and system), which node cannot read of a child.
    const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--timeout', '10s', '-s', path, spec.url];
    const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve, reject) => {
      const child = spawn('bash', ['-c', 'TIMEFORMAT="cpu %3U %3S"; time wrk "$@"', 'wrk', ...args]);
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('error', reject);
      child.once('close', (exitCode) => resolve({ stdout: out, stderr: err, code: exitCode }));
    });
    const line = stdout.split('\n').find((l) => l.startsWith('{"requests":'));
    const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
    if (code !== 0 || !line || !cpu) throw new Error(`wrk failed (exit ${code}): ${(stderr || stdout).slice(0, 500)}`);
    const figures = JSON.parse(line) as WrkFigures;
    const seconds = figures.durationUs / 1e6;
    const ms = (us: number) => us / 1000;
    return {
      name: spec.name,
      tool,
      connections: spec.connections,
      seconds,
      requests: figures.requests,
      requestsPerSec: figures.requests / seconds,
      p50Ms: ms(figures.p50),
      p90Ms: ms(figures.p90),
      p99Ms: ms(figures.p99),
      maxMs: ms(figures.max),
      failures: figures.connect + figures.read + figures.write + figures.mismatches,
      timeouts: figures.timeout,
      clientCpuSeconds: Number(cpu[1]) + Number(cpu[2]),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
