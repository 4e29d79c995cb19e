/**
 * A real PromptGate server process for the browser tests: the build `npm start` runs, on a free
 * port, on a fresh SQLite file (seeded with the demo, as `npm start` does on a new machine) or a
 * fresh PostgreSQL database (seeded with `npm run db:seed`'s code) when TEST_DATABASE_URL is set.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../../scripts/build-server.ts';
import { SERVER_ARGS } from '../server-process.ts';
import { createScratchPostgres } from '../postgres.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningServer {
  /** e.g. http://127.0.0.1:43123 */
  origin: string;
  graphqlUrl: string;
  dialect: 'sqlite' | 'postgresql';
  output: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Builds console/dist when it is missing or older than its sources (as npm start does). */
export function buildConsole(): void {
  const result = spawnSync('node', ['scripts/build-console.mjs'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('The console did not build');
}

export async function startServer(): Promise<RunningServer> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  let databaseUrl: string;
  let dialect: RunningServer['dialect'];
  let cleanup: () => Promise<void>;
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', KEY_RATE_LIMIT_PER_MINUTE: '0' };
  delete env.REDIS_URL;
  if (serverUrl) {
    const scratch = await createScratchPostgres(serverUrl);
    databaseUrl = scratch.url;
    dialect = 'postgresql';
    cleanup = () => scratch.drop();
    const seeded = spawnSync('node', ['--import', 'tsx', 'server/db/seed-cli.ts'], { cwd: root, env: { ...env, DATABASE_URL: databaseUrl }, encoding: 'utf8' });
    if (seeded.status !== 0) throw new Error(`seeding failed: ${seeded.stderr}`);
  } else {
    const path = join(tmpdir(), `promptgate-e2e-${randomBytes(6).toString('hex')}.sqlite`);
    databaseUrl = `sqlite:${path}`;
    dialect = 'sqlite';
    cleanup = async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    };
  }
  await buildServer();
  const port = await freePort();
  const child: ChildProcess = spawn('node', SERVER_ARGS, {
    cwd: root,
    env: { ...env, DATABASE_URL: databaseUrl, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const origin = `http://127.0.0.1:${port}`;

  // Ready when /health answers; the process printing its failure ends the wait early.
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let attempt = 0; ; attempt++) {
    if (exited) throw new Error(`The server stopped:\n${output.join('')}`);
    try {
      const response = await fetch(`${origin}/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 600) throw new Error(`The server did not start:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    origin,
    graphqlUrl: `${origin}/graphql`,
    dialect,
    output,
    async stop() {
      if (!exited) {
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await done;
      }
      await cleanup();
    },
  };
}
