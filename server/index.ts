/** Starts PromptGate: opens and migrates the database, then serves the app on PORT. */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createRateLimiter } from './http/rate-limit.ts';
import { serveWithWorkers } from './cluster.ts';
import { pruneExpiredCounts } from './modules/access/access-index.ts';
import { accessCache } from './modules/access/invalidation.ts';
import { ConfigError, loadConfig } from './config.ts';
import { loadEnvFile } from './env-file.ts';
import { heapGrowthPercent, tuneHeap } from './heap.ts';
import { openDatabase } from './db/orm.ts';
import { databaseCheck, redisCheck } from './http/readiness.ts';
import { isEmpty, seedDemo, seedMessage } from './db/seed.ts';
import { createLogger, routeConsole } from './logger.ts';
import { serveMetrics } from './http/metrics-server.ts';
import { collectProcessMetrics, shareMetricsWithPrimary } from './metrics.ts';
import cluster from 'node:cluster';
import { failInterruptedRuns } from './modules/run/run.service.ts';
import { createSignInThrottle } from './modules/user/sign-in-throttle.ts';
import { startWebhookWorker } from './modules/webhook/webhook-worker.ts';
import { secretBox } from './modules/webhook/webhook-crypto.ts';
import { resolveWebhookSecretKey } from './modules/webhook/webhook-security.ts';
import { createApp } from './yoga.ts';

async function main(): Promise<void> {
  loadEnvFile();
  tuneHeap(heapGrowthPercent(process.env.HEAP_GROWTH_PERCENT));
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  // Library output (knex's pool, the pg driver) as log lines, redacted like the rest.
  routeConsole(logger);
  const orm = await openDatabase(config.database);
  // The access cache, made on the root EntityManager before any transaction (the demo seed's below):
  // its commit hook must hear every transaction, not only those of one transaction's copy.
  accessCache(orm.em);
  collectProcessMetrics(orm);
  // In a worker of WORKERS>1 the primary serves METRICS_PORT, summing every worker's (cluster.ts).
  if (cluster.isWorker) shareMetricsWithPrimary();
  const metricsServer = config.metrics.port !== undefined && !cluster.isWorker ? await serveMetrics(config.metrics.port, config.metrics.token) : undefined;
  const store = config.database.dialect === 'sqlite' ? `SQLite at ${config.database.path}` : 'PostgreSQL';

  // Only the embedded store is seeded on its own, and only when new (PostgreSQL: npm run db:seed);
  // before listening, in one transaction, so no request can race a half-seeded database.
  const seeded = config.database.dialect === 'sqlite' && config.seedEmbeddedDemo && (await isEmpty(orm.em.fork()));
  if (seeded) await orm.em.fork().transactional((em) => seedDemo(em));

  // Runs cut off by a crash or restart end FAILED now, and any that pass their deadline later do
  // too; the access index's counts of days past, which no total reads, go.
  const sweep = async () => {
    const now = new Date();
    const failed = await failInterruptedRuns(orm.em.fork(), now);
    if (failed) logger.warn(`marked ${failed} interrupted run(s) FAILED`);
    await pruneExpiredCounts(orm.em.fork(), now);
  };
  await sweep();
  const sweeper = setInterval(() => sweep().catch((error: unknown) => logger.error('run sweep failed', error)), 60_000);
  sweeper.unref();

  const rateLimiter = createRateLimiter(config.rateLimit, logger);
  const signInThrottle = createSignInThrottle(config.signInThrottle, logger);
  // The console, when built (npm start builds it first; see scripts/build-console.mjs).
  const consoleDir = fileURLToPath(new URL('../console/dist', import.meta.url));
  const hasConsole = existsSync(`${consoleDir}/index.html`);
  const redis = config.rateLimit.redisUrl ? redisCheck(config.rateLimit.redisUrl) : undefined;
  const readinessChecks = [databaseCheck(orm), ...(redis ? [redis] : [])];
  if (config.webhooks.allowInsecure) {
    logger.warn('WEBHOOKS_ALLOW_INSECURE=true: webhooks may use http and point at loopback, private and metadata addresses. For development and tests only; never in production.');
  }
  const webhooks = { ...config.webhooks, secretKey: resolveWebhookSecretKey(config.webhooks, config.database, logger) };
  // Every replica runs a worker: they claim disjoint deliveries (webhook-worker.ts).
  const webhookWorker = startWebhookWorker({ orm, logger, config: webhooks, box: secretBox(webhooks.secretKey) });
  const app = createApp({ orm, config: { ...config, webhooks }, logger, rateLimiter, signInThrottle, readinessChecks, ...(hasConsole ? { consoleDir } : {}) });
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}/graphql`;
  logger.info(`PromptGate is serving ${url} (GraphiQL in a browser) on ${store}`);
  if (hasConsole) logger.info(`The console: http://localhost:${port}/`);
  else logger.info('The console is not built (npm run build:console): only the API is served');
  if (seeded) logger.info(seedMessage(url));
  if (metricsServer) logger.info(`Metrics: http://localhost:${(metricsServer.address() as { port: number }).port}/metrics`);

  const shutdown = (signal: string) => {
    logger.info(`${signal}: finishing requests in flight, then stopping`);
    metricsServer?.close();
    server.close(() => void Promise.all([webhookWorker.stop().then(() => orm.close()), rateLimiter.close(), signInThrottle.close(), redis?.close()]).then(() => process.exit(0)));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

// WORKERS > 1: the primary migrates and seeds, then forks workers that each run main().
serveWithWorkers(main).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`[promptgate] configuration error: ${error.message}`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`[promptgate] could not start: port ${process.env.PORT ?? 4000} is already in use; stop what uses it or set PORT`);
  } else {
    console.error('[promptgate] could not start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
});
