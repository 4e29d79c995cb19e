import { knex as knexFactory } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_KEY } from '../../server/db/orm.ts';
import { postgresqlMigrations } from '../../server/db/migrations/postgresql/index.ts';
import { sqliteMigrations } from '../../server/db/migrations/sqlite/index.ts';
import { gqlAt, runScript, scratchDatabase, startServerProcess, waitFor, type ServerProcess } from '../server-process.ts';

/** Migrations as operators run them: `npm run migrate`, and replicas that migrate as they start. */

const store = process.env.TEST_DATABASE_URL ? 'PostgreSQL' : 'SQLite';
const migrations = process.env.TEST_DATABASE_URL ? postgresqlMigrations : sqliteMigrations;

describe(`npm run migrate (${store})`, () => {
  let database: Awaited<ReturnType<typeof scratchDatabase>>;
  const started: ServerProcess[] = [];
  beforeAll(async () => {
    database = await scratchDatabase();
  });
  afterAll(async () => {
    for (const server of started) await server.stop('SIGKILL');
    await database?.drop();
  });

  it('migrates an empty database, finds nothing to do the second time, and the server then starts on it', { timeout: 180_000 }, async () => {
    const first = await runScript('scripts/migrate.ts', { DATABASE_URL: database.url });
    expect(first).toEqual({ code: 0, output: expect.stringContaining(`schema is up to date (${migrations.length} migration(s) applied)`) });
    const again = await runScript('scripts/migrate.ts', { DATABASE_URL: database.url });
    expect(again.code).toBe(0);
    const server = await startServerProcess(database.url);
    started.push(server);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('npm run db:seed seeds an empty database and exits (it opens no cache channel that would keep it running)', { timeout: 120_000 }, async () => {
    const empty = await scratchDatabase();
    try {
      expect((await runScript('scripts/migrate.ts', { DATABASE_URL: empty.url })).code).toBe(0);
      const seeded = await runScript('server/db/seed-cli.ts', { DATABASE_URL: empty.url });
      expect(seeded).toEqual({ code: 0, output: expect.stringContaining('demo@promptgate.local') });
    } finally {
      await empty.drop();
    }
  });

  it('exits with an error, and never shows the address, when DATABASE_URL is not one it knows', { timeout: 60_000 }, async () => {
    const result = await runScript('scripts/migrate.ts', { DATABASE_URL: 'mysql://admin:hunter2@db/x' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('configuration error: DATABASE_URL must start with');
    expect(result.output).not.toContain('hunter2');
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('replicas started together on an empty PostgreSQL database', () => {
  let database: Awaited<ReturnType<typeof scratchDatabase>>;
  const started: ServerProcess[] = [];
  beforeAll(async () => {
    database = await scratchDatabase();
  });
  afterAll(async () => {
    for (const server of started) await server.stop('SIGKILL');
    await database?.drop();
  });

  it('all come up and serve, and the schema is migrated once', { timeout: 180_000 }, async () => {
    // The test holds the migration lock first, so that all three reach it before any migrates, then
    // lets go: they start at once, as replicas of a deploy do, whatever this machine's load.
    const holder = knexFactory({ client: 'pg', connection: database.url, pool: { min: 1, max: 1 } });
    let outcomes: PromiseSettledResult<ServerProcess>[];
    try {
      await holder.raw('select pg_advisory_lock(?::bigint)', [MIGRATION_LOCK_KEY]);
      const starting = Promise.allSettled([1, 2, 3].map(() => startServerProcess(database.url)));
      await waitFor('three replicas waiting for the migration lock', async () => {
        const { rows } = await holder.raw("select count(*)::int as waiting from pg_locks where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())");
        return rows[0].waiting === 3 ? true : undefined;
      }, 120_000);
      await holder.raw('select pg_advisory_unlock(?::bigint)', [MIGRATION_LOCK_KEY]);
      outcomes = await starting;
    } finally {
      await holder.destroy();
    }
    for (const outcome of outcomes) if (outcome.status === 'fulfilled') started.push(outcome.value);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'up'))).toEqual(['up', 'up', 'up']);

    // One database behind them all: an account made through one replica signs in through the others.
    const [first, ...others] = started;
    const credentials = { email: 'ops@example.com', password: 'correct horse battery staple' };
    const signUp = await gqlAt(first!.url, 'mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }', { input: { ...credentials, name: 'Ops' } });
    expect(signUp.errors).toBeUndefined();
    for (const server of others) {
      const logIn = await gqlAt(server.url, 'mutation($input: LogInInput!) { logIn(input: $input) { user { id } } }', { input: credentials });
      expect(logIn.data?.logIn.user.id).toBe(signUp.data?.signUp.user.id);
    }
    const db = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 1 } });
    try {
      const rows = await db('mikro_orm_migrations').select('name');
      expect(rows.map((r: { name: string }) => r.name).sort()).toEqual(migrations.map((m) => m.name).sort());
    } finally {
      await db.destroy();
    }
  });
});
