/**
 * Rows of permission insight: checkAccess.via, a key's runnable prompts and flows and its grants
 * (fields of ApiKey: a key reads its own, members any key of their organization), and the preview
 * of a permission change (admins and owners, like the change itself).
 */
import { expect } from 'vitest';
import { BAD, DEAD, F, NF, U, count, loosePromptId, ownKeyOrSpecific, specificKey, w, type CallerKey, type Row } from './matrix.ts';

const ORG_KEY_ROWS = { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' } as const;
const MEMBERS_ONLY = { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' } as const;

/** The paths by which a matrix key reaches the world's prompt (its flow runs that prompt). */
function pathsToWorldPrompt(key: CallerKey) {
  if (key.access === 'ORGANIZATION') return [{ kind: 'ORGANIZATION_WIDE', flow: null }];
  return [
    ...(key.promptIds.includes(w.promptId) ? [{ kind: 'DIRECT_GRANT', flow: null }] : []),
    ...(key.flowIds.includes(w.flowId) ? [{ kind: 'FLOW_GRANT', flow: { id: w.flowId } }] : []),
  ];
}

const RUNNABLE = `query($id: ID!) { apiKey(id: $id) {
  runnablePrompts(first: 100) { totalCount nodes { prompt { id } via { kind flow { id } } } }
  runnableFlows(first: 100) { totalCount nodes { flow { id } via { kind } } } } }`;

/** The organization's live prompts and flows, counted when the cell is prepared. */
async function organizationCounts(): Promise<{ prompts: number; flows: number }> {
  return {
    prompts: await count('select count(*) as n from prompts where organization_id = ? and deleted_at is null', [w.organizationId]),
    flows: await count('select count(*) as n from flows where organization_id = ? and deleted_at is null', [w.organizationId]),
  };
}

function checkRunnable(d: any, key: CallerKey, all: { prompts: number; flows: number }): void {
  const prompts = d.apiKey.runnablePrompts;
  const flows = d.apiKey.runnableFlows;
  if (key.access === 'ORGANIZATION') {
    expect(prompts.totalCount).toBe(all.prompts);
    expect(flows.totalCount).toBe(all.flows);
  } else {
    expect(prompts.totalCount).toBe(prompts.nodes.length);
    expect(flows.nodes).toEqual(key.flowIds.map((id) => ({ flow: { id }, via: [{ kind: 'DIRECT_GRANT' }] })));
  }
  expect(prompts.nodes.find((n: any) => n.prompt.id === w.promptId)?.via).toEqual(pathsToWorldPrompt(key));
}

export const rows: Row[] = [
  {
    field: 'AccessDecision.via',
    name: 'checkAccess(apiKeyId: own key, promptId) { via }',
    expect: ORG_KEY_ROWS,
    prepare: ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      return {
        query: 'query($key: ID, $prompt: ID) { checkAccess(apiKeyId: $key, promptId: $prompt) { allowed via { kind flow { id } } } }',
        variables: { key: key.id, prompt: w.promptId },
        ok: (d) => expect(d.checkAccess).toEqual({ allowed: true, via: pathsToWorldPrompt(key) }),
      };
    },
  },
  {
    field: 'AccessDecision.via',
    name: 'checkAccess(apiKeyId: another key) { via }',
    expect: MEMBERS_ONLY,
    prepare: () => ({
      query: 'query($key: ID, $flow: ID) { checkAccess(apiKeyId: $key, flowId: $flow) { via { kind } } }',
      variables: { key: specificKey.id, flow: w.flowId },
      ok: (d) => expect(d.checkAccess.via).toEqual([{ kind: 'DIRECT_GRANT' }]),
    }),
  },
  {
    field: 'ApiKey.runnablePrompts',
    name: 'apiKey.runnablePrompts (own key)',
    expect: ORG_KEY_ROWS,
    prepare: async ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      const all = await organizationCounts();
      return { query: RUNNABLE, variables: { id: key.id }, ok: (d) => checkRunnable(d, key, all) };
    },
  },
  {
    field: 'ApiKey.runnableFlows',
    name: 'apiKey.runnableFlows (another key)',
    expect: MEMBERS_ONLY,
    prepare: async () => {
      const all = await organizationCounts();
      return { query: RUNNABLE, variables: { id: specificKey.id }, ok: (d) => checkRunnable(d, specificKey, all) };
    },
  },
  {
    field: 'ApiKey.grants',
    name: 'apiKey.grants (own key)',
    expect: ORG_KEY_ROWS,
    prepare: ({ caller }) => {
      const key = ownKeyOrSpecific(caller);
      return {
        query: 'query($id: ID!) { apiKey(id: $id) { grants { prompt { id } flow { id } grantedAt lastUsedAt runs } } }',
        variables: { id: key.id },
        ok: (d) => {
          const granted = d.apiKey.grants.map((g: any) => g.prompt?.id ?? g.flow.id);
          expect(granted.sort()).toEqual([...key.promptIds, ...key.flowIds].sort());
          for (const grant of d.apiKey.grants) expect(grant.grantedAt).toEqual(expect.any(String));
        },
      };
    },
  },
  {
    field: 'ApiKey.grants',
    name: 'apiKey.grants (another key)',
    expect: MEMBERS_ONLY,
    prepare: () => ({
      query: 'query($id: ID!) { apiKey(id: $id) { grants { prompt { id } flow { id } } } }',
      variables: { id: specificKey.id },
      ok: (d) => expect(d.apiKey.grants).toEqual([{ prompt: { id: w.promptId }, flow: null }, { prompt: null, flow: { id: w.flowId } }]),
    }),
  },
  {
    field: 'Query.previewApiKeyPermissions',
    name: 'previewApiKeyPermissions',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: () => {
      return {
        query: `query($input: UpdateApiKeyPermissionsInput!) { previewApiKeyPermissions(input: $input) {
          apiKey { id } gainedPrompts { id } gainedFlows { id } lostPrompts { id } lostFlows { id } refusedRuns } }`,
        variables: { input: { apiKeyId: specificKey.id, access: 'SPECIFIC', promptIds: [loosePromptId] } },
        ok: (d) =>
          expect(d.previewApiKeyPermissions).toEqual({
            apiKey: { id: specificKey.id },
            gainedPrompts: [{ id: loosePromptId }],
            gainedFlows: [],
            lostPrompts: [{ id: w.promptId }],
            lostFlows: [{ id: w.flowId }],
            refusedRuns: 0,
          }),
      };
    },
  },
  {
    field: 'Query.previewApiKeyPermissions',
    name: 'previewApiKeyPermissions(grants with ORGANIZATION)',
    // The mutation's own validation: an admin hears the mutation's BAD_USER_INPUT.
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: BAD, owner: BAD },
    prepare: () => ({
      query: 'query($input: UpdateApiKeyPermissionsInput!) { previewApiKeyPermissions(input: $input) { refusedRuns } }',
      variables: { input: { apiKeyId: specificKey.id, access: 'ORGANIZATION', promptIds: [w.promptId] } },
      ok: () => undefined,
    }),
  },
];
