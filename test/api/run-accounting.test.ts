/**
 * Runs cost what they must, and under load none is lost:
 * - many runs at once through the app, by keys: every run answered SUCCEEDED is recorded SUCCEEDED
 *   with all its steps, and no other run is recorded;
 * - a prompt run on a model that answers in-process (echo) writes its run and its step in one
 *   transaction of two inserts, reads nothing back, updates nothing.
 */
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, createApiKey, createFlow, createPrompt, type TestKey, type World } from '../fixtures.ts';

let h: Harness;
let w: World;
let keys: TestKey[];
let flowId: string;
/** Every statement the database was sent, as knex reports them. */
const statements: string[] = [];

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
  it('writes the run and its step in one transaction of two inserts, with no read-back and no update of them', async () => {
    const key = keys[1]!;
    // A first run, so that the key's once-a-minute lastUsedAt write is behind us.
    dataOf(await h.gql(RUN_PROMPT, { p: w.promptId, inputs: { text: 'warm' } }, { token: key.secret }));
    statements.length = 0;
    const run = dataOf(await h.gql(RUN_PROMPT, { p: w.promptId, inputs: { text: 'counted' } }, { token: key.secret })).runPrompt;
    expect(run.status).toBe('SUCCEEDED');
    const sent = statements.map((sql) => sql.trim().toLowerCase());
    const writes = sent.filter((sql) => /^(insert|update|delete)\b/.test(sql));
    expect(writes.map((sql) => sql.match(/^(insert into|update|delete from) [`"]?(\w+)/)?.slice(1).join(' '))).toEqual([
      'insert into runs',
      'insert into run_steps',
    ]);
    expect(sent.filter((sql) => /^begin\b/.test(sql))).toHaveLength(1);
    expect(sent.filter((sql) => /^commit\b/.test(sql))).toHaveLength(1);
    // The answer's run and steps: the steps are read (one statement), the run itself is not.
    expect(sent.filter((sql) => /^select\b/.test(sql) && /from [`"]?runs[`"]?/.test(sql))).toEqual([]);
    expect(sent.filter((sql) => /from [`"]?run_steps[`"]?/.test(sql))).toHaveLength(1);
  });
});
