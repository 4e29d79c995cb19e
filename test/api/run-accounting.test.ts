/**
 * Runs cost what they must, and under load none is lost:
 * - many runs at once through the app, by keys: every run answered SUCCEEDED is recorded SUCCEEDED
 *   with all its steps, and no other run is recorded; on PostgreSQL they share statements;
 * - a prompt run on a model that answers in-process (echo) writes its run and its step once, in
 *   one transaction of prepared statements, reads nothing back, updates nothing; the path it
 *   records came with the prompt.
 */
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preparedDb } from '../../server/db/prepared.ts';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, createApiKey, createFlow, createPrompt, type TestKey, type World } from '../fixtures.ts';

let h: Harness;
let w: World;
let keys: TestKey[];
let flowId: string;
/** Every statement the database was sent through the ORM, as knex reports them. */
const statements: string[] = [];
/** Every prepared statement run (db/prepared.ts). */
const prepared: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  const second = await createPrompt(h, w.owner, w.organizationId, { name: 'Shout', template: 'LOUD: {{text}}' });
  flowId = await createFlow(h, w.owner, w.organizationId, [w.promptId, second], 'Summarize then shout');
  keys = [
    await createApiKey(h, w.owner, w.organizationId, { name: 'organization-wide' }),
    await createApiKey(h, w.owner, w.organizationId, { name: 'granted', promptIds: [w.promptId], flowIds: [flowId] }),
    await createApiKey(h, w.owner, w.organizationId, { name: 'granted too', promptIds: [w.promptId], flowIds: [flowId] }),
  ];
  (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex().on('query', (query: { sql: string }) => {
    statements.push(query.sql);
  });
  (await preparedDb(h.orm)).onStatement((name) => prepared.push(name));
});
afterAll(() => h.close());

const RUN_PROMPT = 'mutation($p: ID!, $inputs: JSON) { runPrompt(input: { promptId: $p, inputs: $inputs }) { id status result steps { position status } } }';
const RUN_FLOW = 'mutation($f: ID!, $inputs: JSON) { runFlow(input: { flowId: $f, inputs: $inputs }) { id status result steps { position status } } }';

async function scalar(sql: string, params: unknown[] = []): Promise<number> {
  const rows: Record<string, unknown>[] = await h.orm.em.fork().getConnection().execute(sql, params);
  return Number(Object.values(rows[0]!)[0]);
}

describe('runs under concurrent load', () => {
  it('records every run answered SUCCEEDED, with its steps, and nothing else', async () => {
    const N = 60;
    const before = await scalar('select count(*) from runs');
    prepared.length = 0;
    const answers = await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const token = keys[i % keys.length]!.secret;
        return i % 4 === 3
          ? h.gql(RUN_FLOW, { f: flowId, inputs: { text: `load ${i}` } }, { token })
          : h.gql(RUN_PROMPT, { p: w.promptId, inputs: { text: `load ${i}` } }, { token });
      }),
    );
    const runs = answers.map((answer) => {
      const data = dataOf(answer);
      return (data.runPrompt ?? data.runFlow) as { id: string; status: string; steps: { position: number; status: string }[] };
    });
    const succeeded = runs.filter((run) => run.status === 'SUCCEEDED');
    expect(succeeded).toHaveLength(N);
    expect(new Set(succeeded.map((run) => run.id)).size).toBe(N);

    expect(await scalar("select count(*) from runs where status = 'SUCCEEDED'") - before).toBe(succeeded.length);
    expect(await scalar('select count(*) from runs') - before).toBe(N);
    // Runs that finish together share a commit (run/run-record.ts): on PostgreSQL those that finished
    // while an insert was in flight went in one statement, prompt runs and flow runs alike.
    if (h.dialect === 'postgresql') expect(prepared.filter((name) => name === 'insert_runs_with_steps').length).toBeLessThan(N);
    for (const run of succeeded) {
      // The answer showed the steps; the database holds the same, all finished.
      const steps: { position: number; status: string }[] = await h.orm.em
        .fork()
        .getConnection()
        .execute('select position, status from run_steps where run_id = ? order by position', [run.id]);
      expect(steps.map((s) => ({ position: Number(s.position), status: s.status })), run.id).toEqual(run.steps);
      expect(steps.length, run.id).toBeGreaterThan(0);
    }
  });
});

describe('statements of a prompt run by a key (echo)', () => {
  it('writes the run and its step once, in one transaction of prepared statements, reading nothing back', async () => {
    const key = keys[1]!;
    // A first run, so that the key's once-a-minute lastUsedAt write is behind us.
    dataOf(await h.gql(RUN_PROMPT, { p: w.promptId, inputs: { text: 'warm' } }, { token: key.secret }));
    statements.length = 0;
    prepared.length = 0;
    const run = dataOf(await h.gql(RUN_PROMPT, { p: w.promptId, inputs: { text: 'counted' } }, { token: key.secret })).runPrompt;
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'Summarize: counted', steps: [{ position: 1, status: 'SUCCEEDED' }] });
    // Nothing through the ORM: no transaction of its own, no read-back of the run or its steps.
    expect(statements).toEqual([]);
    // SQLite: two inserts in one synchronous transaction; PostgreSQL: one statement (run/run-record.ts).
    expect(prepared.filter((name) => name !== 'sqlite_data_version')).toEqual(h.dialect === 'sqlite' ? ['insert_run', 'insert_run_step'] : ['insert_runs_with_steps']);
    expect(await scalar('select count(*) from run_steps where run_id = ?', [run.id])).toBe(1);
  });

  it('records the path that let the key in, read with the prompt: its direct grant, else the first granted flow by name', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Covered twice', template: 'Twice: {{text}}' });
    const zulu = await createFlow(h, w.owner, w.organizationId, [prompt], 'Zulu flow');
    const alpha = await createFlow(h, w.owner, w.organizationId, [prompt], 'Alpha flow');
    const viaFlows = await createApiKey(h, w.owner, w.organizationId, { name: 'through flows', flowIds: [zulu, alpha] });
    const direct = await createApiKey(h, w.owner, w.organizationId, { name: 'direct and flows', promptIds: [prompt], flowIds: [zulu, alpha] });
    const pathOf = async (token: string) => {
      const { id } = dataOf(await h.gql(RUN_PROMPT, { p: prompt, inputs: { text: 'x' } }, { token })).runPrompt;
      const [row] = await h.orm.em.fork().getConnection().execute('select access_via, granted_by from runs where id = ?', [id]);
      return row;
    };
    // Twice each: the second from the key cache, which keeps the path with the prompt.
    for (let i = 0; i < 2; i++) {
      expect(await pathOf(viaFlows.secret)).toEqual({ access_via: 'FLOW_GRANT', granted_by: alpha });
      expect(await pathOf(direct.secret)).toEqual({ access_via: 'DIRECT_GRANT', granted_by: prompt });
    }
  });
});
