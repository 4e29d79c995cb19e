/**
 * Baseline C: what GraphQL itself costs here. The project's own installed graphql-yoga, @pothos/core
 * and @pothos/plugin-scope-auth, a schema with one field `{ hello }` behind one scope-auth rule
 * (the caller sent a bearer token), served by node:http on 127.0.0.1 in its own process, with no
 * database and no plugin of the app. bench/compare.ts measures every path of the app as a ratio
 * to this server, loaded in the same run, interleaved.
 *
 * Prints {"port": N} once listening; stops on SIGTERM or after BENCH_SERVER_LIFETIME_S seconds.
 */
import { createServer } from 'node:http';
import { createBaselineYoga } from './baseline-app.ts';
import { serveStats } from './server-stats.ts';

const yoga = createBaselineYoga();
const lifetimeSeconds = Number(process.env.BENCH_SERVER_LIFETIME_S ?? 120);
const server = createServer(yoga);
server.keepAliveTimeout = 30_000;
await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
serveStats();
const address = server.address();
process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);

const stop = (code: number) => {
  server.closeAllConnections();
  server.close(() => process.exit(code));
  setTimeout(() => process.exit(code), 5_000).unref();
};
process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));
setTimeout(() => stop(1), lifetimeSeconds * 1000).unref();
