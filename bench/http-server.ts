/**
 * The app behind node:http on 127.0.0.1, in its own process so that the load generator does not
 * share its event loop: started by bench/run.ts with the seeded database in BENCH_SERVER_DATABASE
 * (a JSON DatabaseConfig), it prints {"port": N} once listening and stops on SIGTERM, or by itself
 * after BENCH_SERVER_LIFETIME_S seconds (120 by default) whatever happens to its parent. With
 * BENCH_SERVER_WORKERS=N it is N processes on one port (node:cluster); their stats are not served.
 */
import cluster from 'node:cluster';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DatabaseConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/orm.ts';
import { heapGrowthPercent, tuneHeap } from '../server/heap.ts';
import { createLogger } from '../server/logger.ts';
import { createApp } from '../server/yoga.ts';
import { serveStats } from './server-stats.ts';

const database = JSON.parse(process.env.BENCH_SERVER_DATABASE ?? 'null') as DatabaseConfig | null;
if (!database) throw new Error('BENCH_SERVER_DATABASE is not set: this process is started by bench/run.ts');
const lifetimeSeconds = Number(process.env.BENCH_SERVER_LIFETIME_S ?? 120);

const errors: string[] = [];
const quiet = createLogger('error', (_level, line) => errors.push(line));

// BENCH_SERVER_WORKERS=N: N processes share one port through node:cluster, as WORKERS=N does for
// the server (server/cluster.ts). The primary only forks them and prints the port.
const workers = Number(process.env.BENCH_SERVER_WORKERS ?? 1);
if (workers > 1 && cluster.isPrimary) {
  const port = await freePort();
  for (let i = 0; i < workers; i++) cluster.fork({ BENCH_SERVER_PORT: String(port) });
  let listening = 0;
  cluster.on('listening', () => {
    if (++listening === workers) process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(code), 5_000).unref();
    cluster.on('exit', () => {
      if (!Object.keys(cluster.workers ?? {}).length) process.exit(code);
    });
  };
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  setTimeout(() => stop(1), lifetimeSeconds * 1000).unref();
} else {
  await serveApp();
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function serveApp(): Promise<void> {
  tuneHeap(heapGrowthPercent(process.env.HEAP_GROWTH_PERCENT));
  const orm = await openDatabase(database!);
  // As server/index.ts builds it, without the rate limit (KEY_RATE_LIMIT_PER_MINUTE=0): the load
  // would otherwise measure RATE_LIMITED answers after 600 requests.
  const app = createApp({ orm, config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000 }, logger: quiet });
  const server: Server = createServer(app);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(process.env.BENCH_SERVER_PORT ?? 0), '127.0.0.1', resolve);
  });
  if (cluster.isWorker) return stopWith(server, orm);
  serveStats();
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  stopWith(server, orm);
}

function stopWith(server: Server, orm: Awaited<ReturnType<typeof openDatabase>>): void {
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    if (errors.length) process.stderr.write(`server logged ${errors.length} error(s); first: ${errors[0]!.slice(0, 500)}\n`);
    server.closeAllConnections();
    server.close(() => void orm.close(true).finally(() => process.exit(code)));
    setTimeout(() => process.exit(code), 5_000).unref();
  };
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  setTimeout(() => stop(1), lifetimeSeconds * 1000).unref();
}
