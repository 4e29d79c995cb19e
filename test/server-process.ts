import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatabaseConfig } from '../server/config.ts';
import type { GraphQLResponse } from './harness.ts';
import { createScratchPostgres } from './postgres.ts';

/** Real PromptGate processes, for what only a process shows. */

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * How a server process is started: the build `npm start` runs (dist/server.mjs, built once per test
 * run by test/global-setup.ts), so the tests exercise what production runs.
 */
export const SERVER_ARGS = ['--enable-source-maps', 'dist/server.mjs'];

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** One GraphQL operation posted to this process (gqlAt). */
  gql(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A server process on the given database, ready once /health answers; extra env overrides the defaults. */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}, readyWithinMs = 120_000): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, SERVER_ARGS, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      PROMPTGATE_SEED_DEMO: 'false',
      KEY_RATE_LIMIT_PER_MINUTE: '0',
      REDIS_URL: '',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    child,
    output: () => output,
    gql: (query, variables, token) => gqlAt(url, query, variables, token),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  try {
    await waitFor('the server to answer /health', async () => {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
      try {
        return (await fetch(`${url}/health`)).ok ? true : undefined;
      } catch {
        return undefined;
      }
    }, readyWithinMs);
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
  return server;
}

/** Runs a script to its end (`node --import tsx <script>`), with its exit code and output. */
export async function runScript(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  // The server from its build, as startServerProcess; other scripts from their sources.
  const args = script === 'server/index.ts' ? SERVER_ARGS : ['--import', 'tsx', script];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, output };
}

/** A new, empty store: a temporary SQLite file, or a scratch PostgreSQL database with TEST_DATABASE_URL. */
export async function scratchDatabase(): Promise<{ url: string; config: DatabaseConfig; drop(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL) {
    const scratch = await createScratchPostgres(process.env.TEST_DATABASE_URL);
    return { url: scratch.url, config: { dialect: 'postgresql', url: scratch.url }, drop: () => scratch.drop() };
  }
  const path = join(tmpdir(), `promptgate-process-${randomBytes(6).toString('hex')}.sqlite`);
  return {
    url: `sqlite:${path}`,
    config: { dialect: 'sqlite', path },
    drop: async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    },
  };
}

/** One GraphQL operation posted to a server process, as a client over HTTP would. */
export async function gqlAt(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<GraphQLResponse> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) } as GraphQLResponse;
}

/** Runs the admin CLI (`bin/promptgate.js`, what `npx promptgate` runs) to its end, with stdout and stderr apart. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['bin/promptgate.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin!.end(stdin);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, stdout, stderr };
}
