import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/orm.ts';
import { isEmpty, seedDemo, seedMessage } from './db/seed.ts';
import { createLogger, routeConsole } from './logger.ts';
import { serveMetrics } from './http/metrics-server.ts';
import { AggregatorRegistry } from 'prom-client';

/**
 * WORKERS=N: N server processes sharing one port (node:cluster hands each connection to one of
 * them), so a machine's cores all serve. Default: one per CPU on PostgreSQL; one on SQLite, whose
 * single file takes one writer at a time and whose key cache is local to a process (with more
 * workers on SQLite the cache is off, see modules/access/invalidation.ts).
 */
export function workerCount(value: string | undefined, dialect: 'sqlite' | 'postgresql'): number {
  if (value === undefined || value === '') return dialect === 'postgresql' ? availableParallelism() : 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError(`WORKERS must be a whole number from 1 to 256, got "${value}"`);
  return n;
}

/**
 * Runs `serve` in this process (one worker, or in a worker), or, in the primary of several, brings
 * the database up to date once (migrations, the embedded demo seed) and then forks the workers, so
 * they never race each other to migrate or seed. A worker that dies is replaced.
 */
export async function serveWithWorkers(serve: () => Promise<void>): Promise<void> {
  if (cluster.isWorker) return serve();
  const config = loadConfig();
  const workers = workerCount(process.env.WORKERS, config.database.dialect);
  if (workers === 1) return serve();

  if (config.metrics.token && config.metrics.port === undefined) {
    // Each request to the API port reaches one worker: its /metrics would be that worker's alone.
    throw new ConfigError('with WORKERS above 1, set METRICS_PORT: the primary serves every worker\'s metrics summed there (METRICS_TOKEN alone would answer one worker\'s)');
  }
  const logger = createLogger(config.logLevel);
  routeConsole(logger);
  const orm = await openDatabase(config.database);
  if (config.database.dialect === 'sqlite' && config.seedEmbeddedDemo && (await isEmpty(orm.em.fork()))) {
    await orm.em.fork().transactional((em) => seedDemo(em));
    logger.info(seedMessage(`http://localhost:${config.port}/graphql`));
  }
  await orm.close();

  let stopping = false;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.warn(`worker ${worker.process.pid} stopped (${signal ?? code}); starting another`);
    cluster.fork();
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  logger.info(`${workers} workers share port ${config.port}`);
  const metricsServer = config.metrics.port !== undefined ? await serveMetrics(config.metrics.port, config.metrics.token, new AggregatorRegistry()) : undefined;
  if (metricsServer) logger.info(`Metrics of all ${workers} workers: http://localhost:${(metricsServer.address() as { port: number }).port}/metrics`);
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    metricsServer?.close();
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    const exit = () => (Object.keys(cluster.workers ?? {}).length === 0 ? process.exit(0) : undefined);
    cluster.on('exit', exit);
    exit();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
