/** Bounded sequential timing loops and the tables that report them. */

export interface Bounds {
  /** Calls made and thrown away first (JIT, caches, prepared statements, connection pool). */
  warmup: number;
  /** Timed calls, at most. */
  iterations: number;
  /** Wall-clock cap of warm-up plus timed calls, in milliseconds: the loop stops early when it is reached. */
  maxMs: number;
}

export interface Measurement {
  name: string;
  /** Timed calls actually made (fewer than asked when maxMs was reached first). */
  count: number;
  /** Calls per second, one at a time: count / the time spent in them. */
  opsPerSec: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /**
   * CPU time of this process per call (user + system): less sensitive than latency to other
   * processes sharing the machine; it leaves out the database server's own CPU on PostgreSQL.
   */
  cpuMsPerOp: number;
  /** SQL statements per call, when counted. */
  queries?: number;
  note?: string;
}

/** The q-quantile (0..1) of sorted values, nearest rank. */
/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function quantile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Calls `fn` one call at a time: `warmup` calls, then up to `iterations` timed calls, all within
 * `maxMs`. Each call is timed on its own, so the percentiles are per-call latencies.
 */
export async function measure(name: string, bounds: Bounds, fn: () => Promise<unknown>, extra: Partial<Measurement> = {}): Promise<Measurement> {
  // Warm-up takes at most a quarter of the time, so slow calls still get timed.
  const warmupDeadline = performance.now() + bounds.maxMs / 4;
  for (let i = 0; i < bounds.warmup && performance.now() < warmupDeadline; i++) await fn();
  const deadline = performance.now() + (bounds.maxMs * 3) / 4;
  const latencies = new Float64Array(bounds.iterations);
  let count = 0;
  let total = 0;
  const cpuBefore = process.cpuUsage();
  while (count < bounds.iterations && (count === 0 || performance.now() < deadline)) {
    const start = performance.now();
    await fn();
    const elapsed = performance.now() - start;
    latencies[count++] = elapsed;
    total += elapsed;
  }
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = latencies.subarray(0, count).sort();
  return {
    name,
    count,
    opsPerSec: count / (total / 1000),
    meanMs: total / count,
    p50Ms: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    p99Ms: quantile(sorted, 0.99),
    maxMs: sorted[count - 1]!,
    cpuMsPerOp: (cpu.user + cpu.system) / 1000 / count,
    ...extra,
  };
}

function ms(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);
}

function ops(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

/** A Markdown table, readable in a terminal and pasteable into bench/README.md. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(headers), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

export function measurementTable(results: Measurement[]): string {
  return markdownTable(
    ['benchmark', 'n', 'ops/s', 'mean ms', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'CPU ms/op', 'SQL/op'],
    results.map((r) => [
      r.name + (r.note ? ` (${r.note})` : ''),
      String(r.count),
      ops(r.opsPerSec),
      ms(r.meanMs),
      ms(r.p50Ms),
      ms(r.p95Ms),
      ms(r.p99Ms),
      ms(r.maxMs),
      ms(r.cpuMsPerOp),
      r.queries === undefined ? '' : String(r.queries),
    ]),
  );
}

export interface LoadResult {
  name: string;
  tool: string;
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers that were not HTTP 200 with the expected body, and connection errors other than timeouts. */
  failures: number;
  /** Requests with no answer within the client's timeout (10 s): the server was too slow, not wrong. */
  timeouts?: number;
  /** CPU the load client spent on the run (user and system), in seconds. */
  clientCpuSeconds?: number;
}

export function loadTable(results: LoadResult[]): string {
  return markdownTable(
    ['load (HTTP, loopback)', 'tool', 'conns', 's', 'requests', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'failures'],
    results.map((r) => [
      r.name,
      r.tool,
      String(r.connections),
      r.seconds.toFixed(1),
      String(r.requests),
      ops(r.requestsPerSec),
      ms(r.p50Ms),
      ms(r.p90Ms),
      ms(r.p99Ms),
      ms(r.maxMs),
      String(r.failures),
    ]),
  );
}
