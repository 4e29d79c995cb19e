import { Agent, request } from 'node:http';
import { quantile, type LoadResult } from './measure.ts';

export interface LoadSpec {
  name: string;
  /** http://127.0.0.1:<port>/graphql: loopback only. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Every answer must be exactly this body; any other counts as a failure. */
  expectBody: string;
  connections: number;
  seconds: number;
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') throw new Error(`load runs only against loopback, not ${host}`);
}

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  latency: { p50: number; p90: number; p99: number; max: number; totalCount: number };
  requests: { total: number };
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

/** The installed autocannon's version, for the report. */
async function autocannonVersion(): Promise<string> {
  try {
    const specifier = 'autocannon/package.json';
    const pkg = (await import(specifier, { with: { type: 'json' } })) as { default: { version: string } };
    return pkg.default.version;
  } catch {
    return '?';
  }
}

/** A load client: its name and version, and a load run with it. */
export interface LoadTool {
  name: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

/**
 * autocannon (a dev dependency),
 * unless BENCH_LOAD_TOOL=builtin; otherwise a small keep-alive client on node:http.
 */
export async function loadTool(): Promise<LoadTool> {
  if (process.env.BENCH_LOAD_TOOL !== 'builtin') {
    try {
      const specifier = 'autocannon';
      const imported = (await import(specifier)) as { default: Autocannon };
      const autocannon = imported.default;
      const version = await autocannonVersion();
      return { name: `autocannon ${version}`, run: (spec) => inThisProcess(() => runAutocannon(autocannon, spec, version)) };
    } catch {
      // not installed: fall through
    }
  }
  return { name: 'builtin', run: (spec) => inThisProcess(() => runBuiltin(spec)) };
}

/** A load run of a client in this process, with the CPU this process spent meanwhile: the client's. */
async function inThisProcess(run: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return { ...result, clientCpuSeconds: (used.user + used.system) / 1e6 };
}

async function runAutocannon(autocannon: Autocannon, spec: LoadSpec, version: string): Promise<LoadResult> {
  assertLoopback(spec.url);
  const result = await autocannon({
    url: spec.url,
    method: 'POST',
    headers: spec.headers,
    body: spec.body,
    expectBody: spec.expectBody,
    connections: spec.connections,
    duration: spec.seconds,
    timeout: 10,
  });
  const seconds = result.duration;
  return {
    name: spec.name,
    tool: `autocannon ${version}`,
    connections: spec.connections,
    seconds,
    requests: result.requests.total,
    requestsPerSec: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    // autocannon counts a timeout among its errors too.
    failures: Math.max(0, result.errors - result.timeouts) + result.mismatches + result.non2xx,
    timeouts: result.timeouts,
  };
}

/** `connections` loops, each one request at a time on its own kept-alive socket, until the time is up. */
export async function runBuiltin(spec: LoadSpec): Promise<LoadResult> {
  assertLoopback(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const url = new URL(spec.url);
  const body = Buffer.from(spec.body);
  const headers = { ...spec.headers, 'content-length': String(body.length) };
  const latencies: number[] = [];
  let failures = 0;
  let timeouts = 0;
  const started = performance.now();
  const deadline = started + spec.seconds * 1000;
  const once = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            latencies.push(performance.now() - start);
            if (res.statusCode !== 200 || Buffer.concat(chunks).toString() !== spec.expectBody) failures++;
            resolve();
          });
          res.on('error', () => {
            failures++;
            resolve();
          });
        },
      );
      let timedOut = false;
      req.on('timeout', () => {
        timedOut = true;
        req.destroy(new Error('timeout'));
      });
      req.on('error', () => {
        if (timedOut) timeouts++;
        else failures++;
        resolve();
      });
      req.end(body);
    });
  const loop = async () => {
    while (performance.now() < deadline) await once();
  };
  await Promise.all(Array.from({ length: spec.connections }, loop));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    name: spec.name,
    tool: 'builtin node:http',
    connections: spec.connections,
    seconds,
    requests: sorted.length,
    requestsPerSec: sorted.length / seconds,
    p50Ms: quantile(sorted, 0.5),
    p90Ms: quantile(sorted, 0.9),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted.at(-1) ?? Number.NaN,
    failures,
    timeouts,
  };
}
