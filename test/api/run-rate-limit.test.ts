import { describe, expect, it } from 'vitest';
import { MAX_RUNS_PER_REQUEST } from '../../server/graphql/limits.ts';
import { codeOf, dataOf } from '../harness.ts';
import { limitedWorld, limitersUnderTest } from '../limiters.ts';
import { countRows, createApiKey } from '../fixtures.ts';

// Rate limiting counts what is done: each run a request asks for counts against its key's limit,
// under whatever alias, and a request may ask for at most MAX_RUNS_PER_REQUEST runs.
const LIMIT = 12;

const limiters = limitersUnderTest(LIMIT);

/** A mutation running the prompt `count` times, each under its own alias. */
function aliasedRuns(count: number, promptId: string): string {
  const runs = Array.from({ length: count }, (_, i) => `r${i}: runPrompt(input: { promptId: "${promptId}", inputs: { text: "t" } }) { id }`);
  return `mutation { ${runs.join(' ')} }`;
}

/** Waits, if needed, so that what follows starts well inside one minute (the limiter's window). */
async function startOfMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
}

describe.each(limiters)('runs counted against the key, %s', (_name, makeLimiter) => {
  const world = limitedWorld(makeLimiter);

  it(`refuses more than ${MAX_RUNS_PER_REQUEST} runs in one request before running any, whoever asks`, async () => {
    const { h, w } = world;
    const key = await createApiKey(h, w.owner, w.organizationId);
    const runsBefore = await countRows(h, 'runs');
    for (const token of [key.secret, w.member.token]) {
      const refused = await h.gql(aliasedRuns(MAX_RUNS_PER_REQUEST + 1, w.promptId), {}, { token });
      expect(codeOf(refused)).toBe('BAD_USER_INPUT');
      expect(refused.status).toBe(400);
      expect(refused.errors![0]!.message).toContain(`at most ${MAX_RUNS_PER_REQUEST} runs`);
      expect(refused.errors![0]!.extensions).toMatchObject({ limit: 'MAX_RUNS_PER_REQUEST', maxRunsPerRequest: MAX_RUNS_PER_REQUEST });
    }
    // 15 aliases, the most the query limits allow, and through fragments too.
    const fragments = `mutation { ...A ...A ...A } fragment A on Mutation { a: runPrompt(input: { promptId: "${w.promptId}", inputs: { text: "t" } }) { id } b: runFlow(input: { flowId: "${w.flowId}", inputs: { text: "t" } }) { id } }`;
    expect(codeOf(await h.gql(aliasedRuns(15, w.promptId), {}, { token: key.secret }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await h.gql(fragments, {}, { token: key.secret }))).toBe('BAD_USER_INPUT');
    expect(await countRows(h, 'runs')).toBe(runsBefore);
  });

  it('counts each aliased run of a request against the key, so the limit is reached in runs, not requests', async () => {
    const { h, w } = world;
    await startOfMinute();
    const key = await createApiKey(h, w.owner, w.organizationId);
    // 12 runs allowed a minute: two requests of 5 runs and one of 2 use them all.
    for (const count of [MAX_RUNS_PER_REQUEST, MAX_RUNS_PER_REQUEST, LIMIT - 2 * MAX_RUNS_PER_REQUEST]) {
      const ok = dataOf(await h.gql(aliasedRuns(count, w.promptId), {}, { token: key.secret }));
      expect(Object.keys(ok)).toHaveLength(count);
    }
    expect(await countRows(h, 'runs', { api_key_id: key.id })).toBe(LIMIT);
    const refused = await h.gql(aliasedRuns(1, w.promptId), {}, { token: key.secret });
    expect(codeOf(refused)).toBe('RATE_LIMITED');
    expect(refused.status).toBe(429);
    expect(refused.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await countRows(h, 'runs', { api_key_id: key.id })).toBe(LIMIT);
    // A request of runs that would cross the limit part-way runs none of them.
    const other = await createApiKey(h, w.owner, w.organizationId);
    for (let i = 0; i < LIMIT - 2; i++) expect(codeOf(await h.gql('{ viewer { apiKey { id } } }', {}, { token: other.secret }))).toBeUndefined();
    expect(codeOf(await h.gql(aliasedRuns(3, w.promptId), {}, { token: other.secret }))).toBe('RATE_LIMITED');
    expect(await countRows(h, 'runs', { api_key_id: other.id })).toBe(0);
  });
});
