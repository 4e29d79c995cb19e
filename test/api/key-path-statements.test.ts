/**
 * What a key request costs the database (modules/access/key-path.ts, api-key.auth.ts): the
 * statements each request sends, counted through knex's query events (the ORM) and the prepared
 * statements' own listener (db/prepared.ts). Before this design checkAccess cost 4 statements and
 * viewer { apiKey } 2; now at most 2 and 1 from the database, none from a trusted cache. An echo
 * runPrompt cost 12 (two transactions and a read-back); now those reads and its one write.
 */
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/orm.ts';
import { preparedDb } from '../../server/db/prepared.ts';
import { accessCache, EXTERNAL_WRITE_CHECK_MS, invalidateAccess } from '../../server/modules/access/invalidation.ts';
import { buildWorld, createApiKey, type TestKey, type World } from '../fixtures.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { waitFor } from '../server-process.ts';

let h: Harness;
let w: World;
let key: TestKey;
let sent: string[] = [];

const CHECK = 'query($p: ID!) { checkAccess(promptId: $p) { allowed reason } }';
const VIEWER = '{ viewer { apiKey { id name status } } }';

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  key = await createApiKey(h, w.owner, w.organizationId, { name: 'Counted', promptIds: [w.promptId] });
  (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex().on('query', (query: { sql: string }) => sent.push(`orm: ${query.sql}`));
  (await preparedDb(h.orm)).onStatement((name) => sent.push(name));
  // On PostgreSQL the cache is trusted once its channel hears its own heartbeat.
  await waitFor('the key cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
  // The first use of a key records lastUsedAt (once a minute): not what is counted here.
  dataOf(await h.gql(VIEWER, {}, { token: key.secret }));
});
afterAll(() => h.close());

async function statementsOf(query: string, variables: Record<string, unknown> = {}): Promise<string[]> {
  // What is counted assumes a trusted cache (on PostgreSQL: its channel up and heard).
  await waitFor('the key cache to be trusted', () => (accessCache(h.orm.em).trusted() ? true : undefined));
  sent = [];
  dataOf(await h.gql(query, variables, { token: key.secret }));
  // On SQLite a key request also asks data_version (a pragma, no table read) when it was not asked
  // in the last EXTERNAL_WRITE_CHECK_MS: whether another process wrote to the file since
  // (invalidation.ts). Counted here, and left out of the lists.
  expect(sent.filter((name) => name === 'sqlite_data_version').length).toBeLessThanOrEqual(h.dialect === 'sqlite' ? 1 : 0);
  return sent.filter((name) => name !== 'sqlite_data_version');
}

/** Drops the key's copies, as a change to the key does: the next request reads the database. */
async function cold(): Promise<void> {
  await invalidateAccess(h.orm.em.fork(), `key:${key.id}`);
}

describe('statements per key request', () => {
  it('checkAccess(promptId): two prepared statements from the database, none from the cache', async () => {
    await cold();
    expect(await statementsOf(CHECK, { p: w.promptId })).toEqual(['verify_api_key', 'prompt_and_grant']);
    expect(await statementsOf(CHECK, { p: w.promptId })).toEqual([]);
  });

  it('viewer { apiKey }: one prepared statement from the database, none from the cache', async () => {
    await cold();
    expect(await statementsOf(VIEWER)).toEqual(['verify_api_key']);
    expect(await statementsOf(VIEWER)).toEqual([]);
  });

  it('runPrompt (echo): the reads of checkAccess, then the finished run written once, nothing read back', async () => {
    await cold();
    // What the SDK's RunPrompt asks (RunFields): the run, its prompt, key and steps.
    const RUN = `mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "x" } }) {
      id status result prompt { id name } apiKey { id name } steps { position status result prompt { id name } } } }`;
    // The run and its step: one transaction of two prepared inserts on SQLite, one statement on
    // PostgreSQL (run/run-record.ts). The path the run records came with the prompt
    // (prompt_and_grant); a key without a quota writes no count (run/quota.ts).
    const write = h.dialect === 'sqlite' ? ['insert_run', 'insert_run_step'] : ['insert_runs_with_steps'];
    expect(await statementsOf(RUN, { p: w.promptId })).toEqual(['verify_api_key', 'prompt_and_grant', ...write]);
    expect(await statementsOf(RUN, { p: w.promptId })).toEqual(write);
  });
});

describe('a write by another process', () => {
  it.skipIf(!!process.env.TEST_DATABASE_URL)('to the SQLite file (the CLI, a sqlite3 shell) reaches the key requests after EXTERNAL_WRITE_CHECK_MS', async () => {
    const revokedKey = await createApiKey(h, w.owner, w.organizationId, { name: 'Revoked elsewhere', promptIds: [w.promptId] });
    dataOf(await h.gql(CHECK, { p: w.promptId }, { token: revokedKey.secret }));
    // Cached now: the same request reads no table.
    expect(await statementsOfKey(revokedKey)).toEqual([]);
    // Another connection to the same file, as the admin CLI in its own process would open.
    const other = await openDatabase({ dialect: 'sqlite', path: h.orm.config.get('dbName')! });
    try {
      await other.em.fork().getConnection().execute('update api_keys set revoked_at = ? where id = ?', [Date.now(), revokedKey.id]);
    } finally {
      await other.close(true);
    }
    // The pragma is asked at most that often: past it, the next request asks, and is refused.
    await new Promise((resolve) => setTimeout(resolve, EXTERNAL_WRITE_CHECK_MS + 10));
    const refused = await h.gql(CHECK, { p: w.promptId }, { token: revokedKey.secret });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

async function statementsOfKey(testKey: TestKey): Promise<string[]> {
  sent = [];
  dataOf(await h.gql(CHECK, { p: w.promptId }, { token: testKey.secret }));
  return sent.filter((name) => name !== 'sqlite_data_version');
}
