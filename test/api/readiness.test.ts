import { knex as knexFactory } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../harness.ts';
import { freePort, scratchDatabase, startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';

/** /health says the process is up; /ready says whether it can serve: database and Redis. */

const store = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite';

async function probe(fetcher: (url: string) => Promise<Response>, path: '/health' | '/ready') {
  const response = await fetcher(path);
  return { status: response.status, body: path === '/ready' ? await response.json() : undefined };
}

describe(`readiness of the app (${store})`, () => {
  let h: Harness;
  const get = async (path: string) => h.app.fetch(`http://localhost${path}`);
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers 200 on /health and on /ready while the database answers', async () => {
    expect((await probe(get, '/health')).status).toBe(200);
    expect(await probe(get, '/ready')).toEqual({ status: 200, body: { ready: true, checks: { database: 'up' } } });
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('answers 503 naming the database while it refuses the app, and 200 again once it is back', async () => {
    const name = new URL(h.orm.config.get('clientUrl')!).pathname.slice(1);
    const admin = knexFactory({ client: 'pg', connection: process.env.TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
    try {
      // The database goes away for the app, as in a failover: its connections are cut and no new one is let in.
      await admin.raw(`alter database ${name} allow_connections false`);
      await admin.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [name]);
      expect(await probe(get, '/ready')).toEqual({ status: 503, body: { ready: false, checks: { database: 'down' } } });
      // Liveness is not readiness: the process is fine, restarting it would not help.
      expect((await probe(get, '/health')).status).toBe(200);
    } finally {
      await admin.raw(`alter database ${name} allow_connections true`);
      await admin.destroy();
    }
    // Back with no restart: the pool opens new connections (a broken one may fail one more probe).
    await waitFor('/ready to answer 200', async () => ((await get('/ready')).status === 200 ? true : undefined));
    expect(await probe(get, '/ready')).toEqual({ status: 200, body: { ready: true, checks: { database: 'up' } } });
    expect((await h.gql('{ viewer { __typename } }')).status).toBe(200);
  });
});

describe(`readiness of a server process with Redis down (${store})`, () => {
  let database: Awaited<ReturnType<typeof scratchDatabase>>;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    database = await scratchDatabase();
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await database?.drop();
  });

  it('is live but not ready, naming redis, when REDIS_URL points at a port nothing listens on', { timeout: 180_000 }, async () => {
    const closedPort = await freePort();
    server = await startServerProcess(database.url, { REDIS_URL: `redis://127.0.0.1:${closedPort}`, KEY_RATE_LIMIT_PER_MINUTE: '60' });
    const get = (path: string) => fetch(`${server!.url}${path}`);
    expect((await probe(get, '/health')).status).toBe(200);
    expect(await probe(get, '/ready')).toEqual({ status: 503, body: { ready: false, checks: { database: 'up', redis: 'down' } } });
  });
});
