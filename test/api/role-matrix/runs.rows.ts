/** Rows of runs: running, rating, reading, and a key's usage (DESIGN.md rules 2, 3, 7 and 9). */
import { expect } from 'vitest';
import {
  U,
  DEAD,
  NF,
  F,
  BAD,
  type CellContext,
  type Cell,
  type Row,
  RUN_FIELDS,
  USAGE_FIELDS,
  USAGE_BY_RESOURCE_FIELDS,
  w,
  loosePromptId,
  looseFlowId,
  runnerKey,
  runnerUser,
  memberRunId,
  sql,
  exists,
  unique,
  NODE_QUERY,
  idsOf,
  runWith,
  liveKey,
  ownRun,
  ownRunMadeBy,
  runIdsWhere,
  usageOf,
  usageByResourceOf,
  flattenUsageByResource,
} from './matrix.ts';

/** A runPrompt cell: a run recorded iff the call is allowed, found by its end-user id. */
function runPromptCell(cell: CellContext, promptId: string, inputs: Record<string, unknown>, result: string): Cell {
  const endUserId = unique('end user');
  return {
    query: `mutation($input: RunPromptInput!) { runPrompt(input: $input) { ${RUN_FIELDS} endUserId } }`,
    variables: { input: { promptId, inputs, endUserId } },
    ok: (d) =>
      expect(d.runPrompt).toMatchObject({
        kind: 'PROMPT',
        status: 'SUCCEEDED',
        result,
        endUserId,
        prompt: { id: promptId },
        flow: null,
        ...ownRunMadeBy(cell),
        steps: [{ position: 1, prompt: { id: promptId } }],
      }),
    changed: () => exists('select id from runs where end_user_id = ?', [endUserId]),
  };
}

function runFlowCell(cell: CellContext, flowId: string, stepId: string, inputs: Record<string, unknown>, result: string): Cell {
  const endUserId = unique('end user');
  return {
    query: `mutation($input: RunFlowInput!) { runFlow(input: $input) { ${RUN_FIELDS} endUserId } }`,
    variables: { input: { flowId, inputs, endUserId } },
    ok: (d) =>
      expect(d.runFlow).toMatchObject({
        kind: 'FLOW',
        status: 'SUCCEEDED',
        result,
        endUserId,
        prompt: null,
        flow: { id: flowId },
        ...ownRunMadeBy(cell),
        steps: [{ position: 1, prompt: { id: stepId } }],
      }),
    changed: () => exists('select id from runs where end_user_id = ?', [endUserId]),
  };
}

/** A rateRun cell: four stars, recorded iff the call is allowed (the run starts unrated). */
function rateRunCell(runId: string): Cell {
  return {
    query: 'mutation($input: RateRunInput!) { rateRun(input: $input) { id rating } }',
    variables: { input: { runId, stars: 4 } },
    ok: (d) => expect(d.rateRun).toEqual({ id: runId, rating: 4 }),
    changed: async () => Number((await sql('select rating from runs where id = ?', [runId]))[0]?.rating) === 4,
  };
}

/** A run(id) cell: the run, and who made it. */
function readRunCell(runId: string, by: ReturnType<typeof ownRunMadeBy>): Cell {
  return {
    query: `query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`,
    variables: { id: runId },
    ok: (d) => expect(d.run).toMatchObject({ id: runId, kind: 'PROMPT', prompt: { id: w.promptId }, ...by }),
  };
}

export const rows: Row[] = [
  // ── Mutation: running (DESIGN.md rules 2, 3 and 7) ──
  {
    field: 'Mutation.runPrompt',
    name: 'runPrompt',
    // The flow key runs the world's prompt through the flow that runs it as its step (rule 2).
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: (cell) => runPromptCell(cell, w.promptId, { text: 'matrix' }, 'Summarize: matrix'),
  },
  {
    field: 'Mutation.runPrompt',
    name: 'runPrompt(not granted, in no flow)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: (cell) => runPromptCell(cell, loosePromptId, { x: 'one' }, 'Alone one'),
  },
  {
    field: 'Mutation.runPrompt',
    name: 'runPrompt(missing variable)',
    // Whoever may run it is told what is missing; nobody's attempt records a run (rule 7).
    expect: { anonymous: U, ...DEAD, orgKey: BAD, promptKey: BAD, flowKey: BAD, outsider: NF, otherAdmin: NF, member: BAD, admin: BAD, owner: BAD },
    prepare: (cell) => runPromptCell(cell, w.promptId, { txet: 'typo' }, 'never'),
  },
  {
    field: 'Mutation.runFlow',
    name: 'runFlow',
    // A prompt grant does not cover the flows that run the prompt.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED' },
    prepare: (cell) => runFlowCell(cell, w.flowId, w.promptId, { text: 'matrix' }, 'Summarize: matrix'),
  },
  {
    field: 'Mutation.runFlow',
    name: 'runFlow(not granted)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: (cell) => runFlowCell(cell, looseFlowId, loosePromptId, { x: 'one' }, 'Alone one'),
  },

  // ── Mutation: rating a run (a key rates its own runs only; members any of the organization) ──
  {
    field: 'Mutation.rateRun',
    name: 'rateRun(own run)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => rateRunCell(await ownRun(cell)),
  },
  {
    field: 'Mutation.rateRun',
    name: "rateRun(another key's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => rateRunCell(await runWith(runnerKey.secret)),
  },
  {
    field: 'Mutation.rateRun',
    name: "rateRun(a member's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => rateRunCell(await runWith(runnerUser.token)),
  },

  // ── Query: reading runs ──
  {
    field: 'Query.run',
    name: 'run(own run)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => readRunCell(await ownRun(cell), ownRunMadeBy(cell)),
  },
  {
    field: 'Query.run',
    name: "run(another key's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => readRunCell(await runWith(runnerKey.secret), { apiKey: { id: runnerKey.id }, user: null }),
  },
  {
    field: 'Query.run',
    name: "run(a member's run)",
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => readRunCell(memberRunId, { apiKey: null, user: { id: w.member.id } }),
  },
  {
    field: 'Query.node',
    name: 'node(Run)',
    // Another key's run: members read every run of their organization, a key only its own.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const id = await runWith(runnerKey.secret);
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: 'Run', id }) };
    },
  },
  {
    field: 'Query.node',
    name: 'node(Run: own run)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const id = await ownRun(cell);
      return { query: NODE_QUERY, variables: { id }, ok: (d) => expect(d.node).toEqual({ __typename: 'Run', id }) };
    },
  },
  {
    field: 'Organization.runs',
    name: 'organization.runs',
    // Members list every run of the organization; a key lists its own and no one else's.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      // The three newest runs of the organization: the caller's own, another key's, another member's.
      const mine = await ownRun(cell);
      const theirs = [await runWith(runnerKey.secret), await runWith(runnerUser.token)];
      const visible = key
        ? await runIdsWhere('api_key_id = ?', [key.id])
        : await runIdsWhere('organization_id = ?', [w.organizationId]);
      const hidden = key ? await runIdsWhere('organization_id = ? and (api_key_id is null or api_key_id <> ?)', [w.organizationId, key.id]) : [];
      return {
        query: 'query($id: ID!) { organization(id: $id) { runs(first: 100) { totalCount nodes { id apiKey { id } } } } }',
        variables: { id: w.organizationId },
        ok: (d) => {
          const ids = idsOf(d.organization.runs);
          expect(d.organization.runs.totalCount).toBe(visible.length);
          expect(ids).toContain(mine);
          if (key) {
            expect(visible.length).toBeLessThanOrEqual(100);
            expect([...ids].sort()).toEqual(visible);
            expect(ids.filter((id) => hidden.includes(id))).toEqual([]);
            expect(d.organization.runs.nodes.every((node: { apiKey: { id: string } | null }) => node.apiKey?.id === key.id)).toBe(true);
          } else {
            expect(ids).toEqual(expect.arrayContaining(theirs));
          }
        },
      };
    },
  },
  {
    field: 'Organization.runs',
    name: 'organization.runs(apiKeyId: another key)',
    // A key passing another key's id is refused, not quietly narrowed.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      await runWith(runnerKey.secret);
      const visible = await runIdsWhere('api_key_id = ?', [runnerKey.id]);
      return {
        query: 'query($id: ID!, $key: ID) { organization(id: $id) { runs(apiKeyId: $key, first: 100) { totalCount nodes { id } } } }',
        variables: { id: w.organizationId, key: runnerKey.id },
        ok: (d) => {
          expect(d.organization.runs.totalCount).toBe(visible.length);
          expect(idsOf(d.organization.runs).every((id) => visible.includes(id))).toBe(true);
        },
      };
    },
  },
  {
    field: 'Organization.runs',
    name: 'organization.runs(apiKeyId: own key)',
    // Members filter by the runner key: they have no key of their own.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const keyId = cell.caller.apiKey?.id ?? runnerKey.id;
      const mine = liveKey(cell.caller) ? await ownRun(cell) : await runWith(runnerKey.secret);
      const visible = await runIdsWhere('api_key_id = ?', [keyId]);
      return {
        query: 'query($id: ID!, $key: ID) { organization(id: $id) { runs(apiKeyId: $key, first: 100) { totalCount nodes { id } } } }',
        variables: { id: w.organizationId, key: keyId },
        ok: (d) => {
          expect(d.organization.runs.totalCount).toBe(visible.length);
          expect(idsOf(d.organization.runs)).toContain(mine);
          expect(idsOf(d.organization.runs).every((id) => visible.includes(id))).toBe(true);
        },
      };
    },
  },

  // ── Usage of a key (rule 9): members read every key's; a key only its own ──
  {
    field: 'ApiKey.usage',
    name: 'apiKey.usage(another key)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const usage = await usageOf(runnerKey.id);
      return {
        query: `query($id: ID!) { apiKey(id: $id) { usage { ${USAGE_FIELDS} } } }`,
        variables: { id: runnerKey.id },
        ok: (d) => {
          expect(usage.runs).toBeGreaterThan(0);
          expect(d.apiKey.usage).toEqual(usage);
        },
      };
    },
  },
  {
    field: 'ApiKey.usage',
    name: 'viewer.apiKey.usage',
    // A key reads its own usage; anyone else has no key of its own (viewer.apiKey is null).
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      if (key) await ownRun(cell);
      const usage = key ? await usageOf(key.id) : undefined;
      return {
        query: `{ viewer { apiKey { id usage { ${USAGE_FIELDS} } } } }`,
        ok: (d) => expect(d.viewer.apiKey).toEqual(key ? { id: key.id, usage } : null),
      };
    },
  },
  {
    field: 'ApiKey.dailyUsage',
    name: 'apiKey.dailyUsage(another key)',
    // The same readers as ApiKey.usage: the series is that usage, per day.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const usage = await usageOf(runnerKey.id);
      return {
        query: 'query($id: ID!) { apiKey(id: $id) { dailyUsage(days: 3) { day usage { runs } } } }',
        variables: { id: runnerKey.id },
        ok: (d) => {
          expect(d.apiKey.dailyUsage).toHaveLength(3);
          // Every run of the matrix was made today, the window's last day.
          expect(d.apiKey.dailyUsage.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), usage: { runs: usage.runs } });
        },
      };
    },
  },
  {
    field: 'ApiKey.dailyUsage',
    name: 'viewer.apiKey.dailyUsage',
    // A key reads its own series; anyone else has no key of its own (viewer.apiKey is null).
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      if (key) await ownRun(cell);
      const usage = key ? await usageOf(key.id) : undefined;
      return {
        query: '{ viewer { apiKey { id dailyUsage(days: 1) { usage { runs } } } } }',
        ok: (d) => expect(d.viewer.apiKey).toEqual(key ? { id: key.id, dailyUsage: [{ usage: { runs: usage!.runs } }] } : null),
      };
    },
  },
  {
    field: 'ApiKey.usageByResource',
    name: 'apiKey.usageByResource(another key)',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const usage = await usageByResourceOf(runnerKey.id);
      return {
        query: `query($id: ID!) { apiKey(id: $id) { usageByResource { ${USAGE_BY_RESOURCE_FIELDS} } } }`,
        variables: { id: runnerKey.id },
        ok: (d) => {
          // The runner key ran the world's prompt and its flow.
          expect(usage.map((u) => u.kind).sort()).toEqual(['FLOW', 'PROMPT']);
          expect(flattenUsageByResource(d.apiKey.usageByResource)).toEqual(usage);
        },
      };
    },
  },
  {
    field: 'ApiKey.usageByResource',
    name: 'viewer.apiKey.usageByResource',
    expect: { anonymous: 'ok', ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: 'ok', otherAdmin: 'ok', member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async (cell) => {
      const key = liveKey(cell.caller);
      if (key) await ownRun(cell);
      const usage = key ? await usageByResourceOf(key.id) : undefined;
      return {
        query: `{ viewer { apiKey { usageByResource { ${USAGE_BY_RESOURCE_FIELDS} } } } }`,
        ok: (d) => {
          if (!key) return expect(d.viewer.apiKey).toBeNull();
          expect(usage!.length).toBeGreaterThan(0);
          expect(flattenUsageByResource(d.viewer.apiKey.usageByResource)).toEqual(usage);
        },
      };
    },
  },
];

