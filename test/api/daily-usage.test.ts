/**
 * ApiKey.dailyUsage: a key's runs per UTC day, every day of the window present, read for a whole
 * page of keys in one statement.
 */
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import { sqlDate } from '../../server/db/dialect.ts';
import { createApiKey, createPrompt, type TestKey } from '../fixtures.ts';
import { codeOf, dataOf, type Harness } from '../harness.ts';
import { describe, expect, test } from '../kit.ts';

const DAILY = 'day usage { runs succeeded failed averageDurationMs p95DurationMs promptTokens completionTokens }';

async function runAs(h: Harness, key: TestKey, promptId: string): Promise<string> {
  const data = dataOf(await h.gql('mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { name: "x" } }) { id } }', { p: promptId }, { token: key.secret }));
  return data.runPrompt.id;
}

/** Moves a run in time (and sets what it recorded), behind the app. */
async function setRun(h: Harness, id: string, fields: { startedAt: string; durationMs: number; status?: string; promptTokens?: number }) {
  const em = h.orm.em.fork();
  await em
    .getConnection()
    .execute('update runs set started_at = ?, duration_ms = ?, status = ?, prompt_tokens = ? where id = ?', [
      sqlDate(em, new Date(fields.startedAt)),
      fields.durationMs,
      fields.status ?? 'SUCCEEDED',
      fields.promptTokens ?? 0,
      id,
    ]);
}

describe('ApiKey.dailyUsage', () => {
  test('counts runs per UTC day, zeros included, until exclusive, days outside the window left out', async ({ h, world }) => {
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Daily' });
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Daily prompt' });
    const placed: [string, number, string?, number?][] = [
      ['2026-03-07T23:59:59.999Z', 5], // the day before the window
      ['2026-03-08T00:00:00.000Z', 10, 'SUCCEEDED', 3],
      ['2026-03-08T23:59:59.999Z', 30, 'FAILED', 4],
      ['2026-03-10T11:59:59.999Z', 7],
      ['2026-03-10T12:00:00.000Z', 9], // at `until`: left out
    ];
    for (const [startedAt, durationMs, status, promptTokens] of placed) {
      await setRun(h, await runAs(h, key, prompt), { startedAt, durationMs, status, promptTokens });
    }
    const read = await h.gql(`query($id: ID!) { apiKey(id: $id) { dailyUsage(days: 3, until: "2026-03-10T12:00:00.000Z") { ${DAILY} } } }`, { id: key.id }, { token: world.member.token });
    const zero = { runs: 0, succeeded: 0, failed: 0, averageDurationMs: null, p95DurationMs: null, promptTokens: 0, completionTokens: 0 };
    expect(dataOf(read).apiKey.dailyUsage).toEqual([
      { day: '2026-03-08', usage: { runs: 2, succeeded: 1, failed: 1, averageDurationMs: 20, p95DurationMs: 30, promptTokens: 7, completionTokens: 0 } },
      { day: '2026-03-09', usage: zero },
      { day: '2026-03-10', usage: { runs: 1, succeeded: 1, failed: 0, averageDurationMs: 7, p95DurationMs: 7, promptTokens: 0, completionTokens: 0 } },
    ]);
  });

  test('defaults to the 14 days ending today', async ({ h, world }) => {
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Today' });
    await runAs(h, key, await createPrompt(h, world.owner, world.organizationId, { name: 'Today prompt' }));
    const series = dataOf(await h.gql('query($id: ID!) { apiKey(id: $id) { dailyUsage { day usage { runs } } } }', { id: key.id }, { token: world.owner.token })).apiKey.dailyUsage;
    expect(series).toHaveLength(14);
    expect(series.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), usage: { runs: 1 } });
    expect(series.slice(0, -1).every((d: { usage: { runs: number } }) => d.usage.runs === 0)).toBe(true);
  });

  test('without until, counts every run of today: one started in the query\'s own millisecond, or stamped ahead by a replica whose clock runs fast', async ({ h, world }) => {
    const DAY_MS = 86_400_000;
    // Close to midnight the day would change under the test: wait for the next one.
    const toMidnight = DAY_MS - (Date.now() % DAY_MS);
    if (toMidnight < 5_000) await new Promise((resolve) => setTimeout(resolve, toMidnight + 10));
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Ahead' });
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Ahead prompt' });
    const endOfToday = (Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS;
    // Later than the query's `now`, still today: an exclusive `now` would leave it out.
    await setRun(h, await runAs(h, key, prompt), { startedAt: new Date(Math.min(Date.now() + 3_000, endOfToday - 1)).toISOString(), durationMs: 4 });
    // Tomorrow's (a clock far off) is outside the window.
    await setRun(h, await runAs(h, key, prompt), { startedAt: new Date(endOfToday).toISOString(), durationMs: 4 });
    const series = dataOf(await h.gql('query($id: ID!) { apiKey(id: $id) { dailyUsage(days: 1) { day usage { runs } } } }', { id: key.id }, { token: world.owner.token })).apiKey.dailyUsage;
    expect(series).toEqual([{ day: new Date(endOfToday - 1).toISOString().slice(0, 10), usage: { runs: 1 } }]);
  });

  test('refuses days outside 1..90 as BAD_USER_INPUT naming days', async ({ h, world }) => {
    const key = await createApiKey(h, world.owner, world.organizationId, { name: 'Bounds' });
    for (const days of [0, -1, 91]) {
      const refused = await h.gql('query($id: ID!, $d: Int) { apiKey(id: $id) { dailyUsage(days: $d) { day } } }', { id: key.id, d: days }, { token: world.owner.token });
      expect(codeOf(refused), String(days)).toBe('BAD_USER_INPUT');
      expect(refused.errors?.[0]?.extensions?.field).toBe('days');
    }
    const ninety = await h.gql('query($id: ID!) { apiKey(id: $id) { dailyUsage(days: 90) { day } } }', { id: key.id }, { token: world.owner.token });
    expect(dataOf(ninety).apiKey.dailyUsage).toHaveLength(90);
  });

  test('reads a page of keys in as many statements as a page of fewer keys (one grouped statement)', async ({ h, world }) => {
    let statements = 0;
    (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex().on('query', () => {
      statements += 1;
    });
    const prompt = await createPrompt(h, world.owner, world.organizationId, { name: 'Counted' });
    for (let i = 0; i < 6; i++) await runAs(h, await createApiKey(h, world.owner, world.organizationId, { name: `counted ${i}` }), prompt);
    const count = async (first: number) => {
      const before = statements;
      const data = dataOf(
        await h.gql('query($org: ID!, $first: Int) { organization(id: $org) { apiKeys(first: $first, search: "counted") { nodes { name dailyUsage(days: 7) { usage { runs } } } } } }', { org: world.organizationId, first }, { token: world.owner.token }),
      );
      expect(data.organization.apiKeys.nodes).toHaveLength(first);
      for (const node of data.organization.apiKeys.nodes) expect(node.dailyUsage.at(-1).usage.runs).toBe(1);
      return statements - before;
    };
    expect(await count(6)).toBe(await count(2));
  });
});
