/**
 * Bench servers in child processes: the app (bench/http-server.ts) or C (bench/baseline-server.ts),
 * bundled and run as `npm start` runs the server, each answering stats and profile requests on its
 * IPC channel (bench/server-stats.ts). Used by bench/compare.ts and bench/ab.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { buildServer } from '../scripts/build-server.ts';
import type { ServerStats, StatsRequest } from './server-stats.ts';

export interface BenchServer {
  url: string;
  ask(request: StatsRequest): Promise<unknown>;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

export interface ServerStart {
  /** The script to bundle and run, from the project's root (or an absolute path: another revision's). */
  entry: string;
  /** Where its bundle goes; dist/bench/<name>.mjs when absent. */
  outfile?: string;
  env?: Record<string, string>;
  /** The longest the whole run may take: the server stops by itself after it, and IPC answers are awaited as long. */
  limitMs: number;
}

/**
 * Starts a bench server as `npm start` runs the server: bundled by scripts/build-server.ts and run
 * by node, not through tsx (its loader thread and keepNames wrappers would be in both
 * measurements, and in neither production process), with NODE_ENV=production as `npm start` and
 * the container set it (graphql-js checks every type test for a second copy of itself otherwise).
 */
export async function startServer({ entry, outfile, env = {}, limitMs }: ServerStart): Promise<BenchServer> {
  const name = basename(entry).replace(/\.ts$/, '');
  const built = await buildServer({ entry, outfile: outfile ?? `dist/bench/${name}.mjs` });
  const child: ChildProcess = spawn(process.execPath, ['--enable-source-maps', built], {
    env: { ...process.env, NODE_ENV: 'production', ...env, BENCH_SERVER_LIFETIME_S: String(Math.ceil(limitMs / 1000) + 30) },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 120 s`)), 120_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{"port":'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening`));
    });
  });
  // One request at a time on the channel: each answer carries the type it answers.
  const ask = (request: StatsRequest) =>
    new Promise<unknown>((resolve, reject) => {
      // The answer waits behind whatever requests the server still has queued when a load run ends
      // (on the large data set, minutes of Integrate-tab queries): wait as long as the run may last.
      const timer = setTimeout(() => reject(new Error(`${name} did not answer ${request.type}`)), limitMs);
      const onMessage = (message: { type: string }) => {
        if (message.type !== request.type) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      child.send(request);
    });
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    ask,
    stats: () => ask({ type: 'stats' }) as Promise<ServerStats>,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
