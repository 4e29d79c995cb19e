/**
 * The app behind node:http on 127.0.0.1, in its own process so that the load generator does not
 * share its event loop: started by bench/run.ts with the seeded database in BENCH_SERVER_DATABASE
 * (a JSON DatabaseConfig), it prints {"port": N} once listening and stops on SIGTERM, or by itself
 * after BENCH_SERVER_LIFETIME_S seconds (120 by default) whatever happens to its parent.
 */
import { createServer } from 'node:http';
import type { DatabaseConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/orm.ts';
import type { Logger } from '../server/logger.ts';
import { createApp } from '../server/yoga.ts';
import { serveStats } from './server-stats.ts';

const database = JSON.parse(process.env.BENCH_SERVER_DATABASE ?? 'null') as DatabaseConfig | null;
if (!database) throw new Error('BENCH_SERVER_DATABASE is not set: this process is started by bench/run.ts');
const lifetimeSeconds = Number(process.env.BENCH_SERVER_LIFETIME_S ?? 120);

const errors: string[] = [];
const quiet: Logger = { debug() {}, info() {}, warn() {}, error: (...args) => errors.push(args.map(String).join(' ')) };

const orm = await openDatabase(database);
// As server/index.ts builds it, without the rate limit (KEY_RATE_LIMIT_PER_MINUTE=0): the load
// would otherwise measure RATE_LIMITED answers after 600 requests.
const app = createApp({ orm, config: { sessionTtlSeconds: 3600, modelTimeoutMs: 5000 }, logger: quiet });
const server = createServer(app);
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
serveStats();
const address = server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);

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
