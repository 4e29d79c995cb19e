/**
 * The load rows of the bench: the hot paths of the hot-path issue on the seeded data set
 * (bench/seed.ts), each with its query, caller, goal and a check of its first answer. Used by
 * bench/compare.ts and bench/ab.ts.
 */
import type { SeedResult } from './seed.ts';

export interface Row {
  key: string;
  name: string;
  body: string;
  token: string | undefined;
  /** Ratio to C the issue asks for; undefined: no goal. */
  goal?: number;
  /** Checks the first answer's data; every later answer must equal that first answer byte for byte. */
  expect: (data: Record<string, unknown>) => boolean;
}

export const Q = {
  hello: '{ hello }',
  typename: '{ __typename }',
  viewerKey: '{ viewer { apiKey { id access status } } }',
  checkAccess: 'query Check($promptId: ID!) { checkAccess(promptId: $promptId) { allowed reason } }',
  runPrompt: 'mutation Run($input: RunPromptInput!) { runPrompt(input: $input) { status } }',
  runnable:
    'query Runnable($id: ID!) { apiKey(id: $id) { runnablePrompts(first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { prompt { id name } via { kind flow { id } } } } } }',
  available:
    'query Available($promptId: ID!) { availableApiKeys(promptId: $promptId, first: 20) { totalCount pageInfo { hasNextPage endCursor } nodes { id name access status } } }',
};

export const body = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });

export function rowsFor(seed: SeedResult): Row[] {
  const key = seed.keys.viaFlow;
  return [
    { key: 'typename', name: '`{ __typename }` anonymous through the app', body: body(Q.typename), token: undefined, expect: (d) => d.__typename === 'Query' },
    {
      key: 'checkAccess',
      name: '`checkAccess(promptId)` by a key',
      body: body(Q.checkAccess, { promptId: key.promptId }),
      token: key.secret,
      goal: 0.8,
      expect: (d) => (d.checkAccess as { reason: string }).reason === 'GRANTED',
    },
    {
      key: 'viewer',
      name: '`viewer { apiKey }` by a key',
      body: body(Q.viewerKey),
      token: key.secret,
      goal: 0.85,
      expect: (d) => (d.viewer as { apiKey: { id: string } }).apiKey.id === key.id,
    },
    {
      key: 'runPrompt',
      name: '`runPrompt` (echo) by a key, recording the run',
      body: body(Q.runPrompt, { input: { promptId: key.promptId, inputs: { question: 'Why is the sky blue?' } } }),
      token: key.secret,
      goal: 0.3,
      expect: (d) => (d.runPrompt as { status: string }).status === 'SUCCEEDED',
    },
    {
      key: 'rare',
      name: `\`availableApiKeys(first: 20)\`, rare prompt (${seed.shape.rareEligible.toLocaleString('en-US')} keys)`,
      body: body(Q.available, { promptId: seed.rarePromptId }),
      token: seed.sessionToken,
      goal: 0.4,
      expect: (d) => (d.availableApiKeys as { totalCount: number }).totalCount === seed.shape.rareEligible,
    },
    {
      key: 'popular',
      name: `\`availableApiKeys(first: 20)\`, popular prompt (${seed.shape.popularEligible.toLocaleString('en-US')} keys)`,
      body: body(Q.available, { promptId: seed.popularPromptId }),
      token: seed.sessionToken,
      goal: 0.4,
      expect: (d) => (d.availableApiKeys as { totalCount: number }).totalCount === seed.shape.popularEligible,
    },
    {
      key: 'runnablePrompts',
      name: `\`runnablePrompts(first: 20)\` page of a key reaching ${seed.insight.reachable.toLocaleString('en-US')} prompts, by the key`,
      body: body(Q.runnable, { id: seed.insight.key.id }),
      token: seed.insight.key.secret,
      expect: (d) => {
        const page = (d.apiKey as { runnablePrompts: { totalCount: number; nodes: { via: { kind: string }[] }[] } }).runnablePrompts;
        return page.totalCount === seed.insight.reachable && page.nodes.length === 20 && page.nodes.every((node) => node.via[0]?.kind === 'FLOW_GRANT');
      },
    },
  ];
}

export function headers(token: string | undefined): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

/** The first answer, checked: it becomes the body every answer under load must equal. */
export async function firstAnswer(url: string, row: Pick<Row, 'name' | 'body' | 'token' | 'expect'>): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: headers(row.token), body: row.body });
  const text = await response.text();
  const parsed = JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (response.status !== 200 || parsed.errors || !parsed.data || !row.expect(parsed.data)) {
    throw new Error(`${row.name}: unexpected answer HTTP ${response.status} ${text.slice(0, 500)}`);
  }
  return text;
}
