/**
 * Permission insight (DESIGN.md rule 11) end to end through GraphQL: every path to a resource
 * (checkAccess.via), what a key can run (ApiKey.runnablePrompts / runnableFlows), its grants with
 * their use (ApiKey.grants, from the grant each run records), and the preview of a permission change
 * (previewApiKeyPermissions), which changes nothing and fails as the mutation does.
 * The property test (access-rule.property.test.ts) holds the same answers against an oracle.
 */
import { codeOf, dataOf } from '../harness.ts';
import { countRows, createApiKey, createFlow, createPrompt } from '../fixtures.ts';
import { describe, expect, it } from '../kit.ts';

const VIA = `query($k: ID, $p: ID, $f: ID) { checkAccess(apiKeyId: $k, promptId: $p, flowId: $f) { allowed via { kind flow { id } } } }`;
const RUNNABLE = `query($id: ID!, $first: Int, $after: String) { apiKey(id: $id) {
  runnablePrompts(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { prompt { id name } via { kind flow { id } } } }
  runnableFlows { totalCount nodes { flow { id } via { kind flow { id } } } } } }`;
const GRANTS = `query($id: ID!, $since: DateTime) { apiKey(id: $id) { grants { prompt { id } flow { id } grantedAt lastUsedAt runs recent: runs(since: $since) } } }`;
const PREVIEW = `query($input: UpdateApiKeyPermissionsInput!, $since: DateTime) { previewApiKeyPermissions(input: $input, since: $since) {
  apiKey { id access } gainedPrompts { id } gainedFlows { id } lostPrompts { id } lostFlows { id }
  wouldRefuse { prompt { id } flow { id } runs endUsers lastRunAt } refusedRuns } }`;
const RUN_PROMPT = 'mutation($id: ID!, $u: String) { runPrompt(input: { promptId: $id, inputs: { text: "x" }, endUserId: $u }) { status } }';
const RUN_FLOW = 'mutation($id: ID!) { runFlow(input: { flowId: $id, inputs: { text: "x" } }) { status } }';

describe('permission insight', () => {
  it('names every path: the direct grant and each granted flow running the prompt', async ({ h, world }) => {
    const { owner, organizationId, promptId } = world;
    const other = await createPrompt(h, owner, organizationId, { name: 'Other', template: '{{text}}' });
    const flowA = await createFlow(h, owner, organizationId, [promptId, other], 'A flow');
    const flowB = await createFlow(h, owner, organizationId, [other, promptId, promptId], 'B flow');
    const key = await createApiKey(h, owner, organizationId, { promptIds: [promptId], flowIds: [flowB, flowA] });
    const asked = dataOf(await h.gql(VIA, { k: key.id, p: promptId }, { token: owner.token })).checkAccess;
    // Direct first, then the flows by name; a flow running the prompt twice is one path.
    expect(asked).toEqual({ allowed: true, via: [{ kind: 'DIRECT_GRANT', flow: null }, { kind: 'FLOW_GRANT', flow: { id: flowA } }, { kind: 'FLOW_GRANT', flow: { id: flowB } }] });
    // The key asks about itself and hears the same; a flow's path is its own grant.
    expect(dataOf(await h.gql(VIA, { p: promptId }, { token: key.secret })).checkAccess).toEqual(asked);
    expect(dataOf(await h.gql(VIA, { f: flowA }, { token: key.secret })).checkAccess.via).toEqual([{ kind: 'DIRECT_GRANT', flow: null }]);
    // Refused: no path at all.
    const narrow = await createApiKey(h, owner, organizationId, { flowIds: [flowA] });
    expect(dataOf(await h.gql(VIA, { k: narrow.id, f: flowB }, { token: owner.token })).checkAccess).toEqual({ allowed: false, via: [] });
    const wide = await createApiKey(h, owner, organizationId);
    expect(dataOf(await h.gql(VIA, { k: wide.id, f: flowB }, { token: owner.token })).checkAccess.via).toEqual([{ kind: 'ORGANIZATION_WIDE', flow: null }]);
  });

  it('lists what a key can run, by name, in pages, with the paths; a key reads its own and no other', async ({ h, world }) => {
    const { owner, member, organizationId } = world;
    const [zeta, alpha, mid] = [
      await createPrompt(h, owner, organizationId, { name: 'zeta', template: '{{text}}' }),
      await createPrompt(h, owner, organizationId, { name: 'alpha', template: '{{text}}' }),
      await createPrompt(h, owner, organizationId, { name: 'mid', template: '{{text}}' }),
    ];
    const flow = await createFlow(h, owner, organizationId, [mid, zeta], 'Runnable flow');
    const key = await createApiKey(h, owner, organizationId, { promptIds: [alpha, zeta], flowIds: [flow] });
    const first = dataOf(await h.gql(RUNNABLE, { id: key.id, first: 2 }, { token: member.token })).apiKey;
    expect(first.runnablePrompts.totalCount).toBe(3);
    expect(first.runnablePrompts.nodes).toEqual([
      { prompt: { id: alpha, name: 'alpha' }, via: [{ kind: 'DIRECT_GRANT', flow: null }] },
      { prompt: { id: mid, name: 'mid' }, via: [{ kind: 'FLOW_GRANT', flow: { id: flow } }] },
    ]);
    expect(first.runnableFlows).toEqual({ totalCount: 1, nodes: [{ flow: { id: flow }, via: [{ kind: 'DIRECT_GRANT', flow: null }] }] });
    const second = dataOf(await h.gql(RUNNABLE, { id: key.id, first: 2, after: first.runnablePrompts.pageInfo.endCursor }, { token: key.secret })).apiKey;
    expect(second.runnablePrompts.nodes).toEqual([{ prompt: { id: zeta, name: 'zeta' }, via: [{ kind: 'DIRECT_GRANT', flow: null }, { kind: 'FLOW_GRANT', flow: { id: flow } }] }]);
    expect(second.runnablePrompts.pageInfo.hasNextPage).toBe(false);

    // A renamed prompt moves in the order.
    dataOf(await h.gql('mutation($id: ID!) { updatePrompt(input: { promptId: $id, name: "aaa" }) { id } }', { id: zeta }, { token: owner.token }));
    const renamed = dataOf(await h.gql(RUNNABLE, { id: key.id, first: 1 }, { token: key.secret })).apiKey.runnablePrompts.nodes;
    expect(renamed.map((n: { prompt: { id: string } }) => n.prompt.id)).toEqual([zeta]);

    // Another key's list is not this key's to read.
    const other = await createApiKey(h, owner, organizationId);
    const refused = await h.gql(RUNNABLE, { id: other.id }, { token: key.secret });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'KEY_NOT_ALLOWED' });
    // An organization-wide key runs every prompt of its organization.
    const all = await countRows(h, 'prompts', { organization_id: organizationId });
    const wide = dataOf(await h.gql(RUNNABLE, { id: other.id, first: 100 }, { token: other.secret })).apiKey.runnablePrompts;
    expect(wide.totalCount).toBe(all);
    expect(new Set(wide.nodes.map((n: { via: { kind: string }[] }) => n.via[0]!.kind))).toEqual(new Set(['ORGANIZATION_WIDE']));
  });

  it('counts each grant\'s runs from the grant each run records, and keeps grantedAt through updates', async ({ h, world }) => {
    const { owner, admin, organizationId } = world;
    const direct = await createPrompt(h, owner, organizationId, { name: 'direct', template: '{{text}}' });
    const step = await createPrompt(h, owner, organizationId, { name: 'step', template: '{{text}}' });
    const unused = await createPrompt(h, owner, organizationId, { name: 'unused', template: '{{text}}' });
    const flow = await createFlow(h, owner, organizationId, [step], 'Grant flow');
    const key = await createApiKey(h, owner, organizationId, { promptIds: [direct, unused], flowIds: [flow] });
    for (const [query, id] of [[RUN_PROMPT, direct], [RUN_PROMPT, direct], [RUN_PROMPT, step], [RUN_FLOW, flow]] as const) {
      expect(dataOf(await h.gql(query, { id }, { token: key.secret }))).toBeTruthy();
    }
    const before = dataOf(await h.gql(GRANTS, { id: key.id, since: new Date(Date.now() + 60_000).toISOString() }, { token: admin.token })).apiKey.grants;
    const find = (grants: any[], id: string) => grants.find((g) => g.prompt?.id === id || g.flow?.id === id);
    expect(find(before, direct)).toMatchObject({ runs: 2, recent: 0, lastUsedAt: expect.any(String) });
    // The flow grant allowed the flow's own run and the run of the prompt it covers.
    expect(find(before, flow)).toMatchObject({ runs: 2, recent: 0, prompt: null });
    expect(find(before, unused)).toMatchObject({ runs: 0, lastUsedAt: null });
    // Narrowing keeps the grants that stay, with their grantedAt and their use.
    dataOf(await h.gql('mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id } }', { input: { apiKeyId: key.id, access: 'SPECIFIC', promptIds: [direct], flowIds: [flow] } }, { token: admin.token }));
    const after = dataOf(await h.gql(GRANTS, { id: key.id }, { token: admin.token })).apiKey.grants;
    expect(after).toHaveLength(2);
    expect(find(after, direct)).toEqual({ ...find(before, direct), recent: 2 });
    // An organization-wide key has no grants; its runs record that path.
    const wide = await createApiKey(h, owner, organizationId);
    dataOf(await h.gql(RUN_PROMPT, { id: direct }, { token: wide.secret }));
    expect(dataOf(await h.gql(GRANTS, { id: wide.id }, { token: wide.secret })).apiKey.grants).toEqual([]);
    expect(await countRows(h, 'runs', { api_key_id: wide.id, access_via: 'ORGANIZATION_WIDE' })).toBe(1);
  });

  it('previews a change: gained, lost and the runs it would refuse, and changes nothing', async ({ h, world }) => {
    const { owner, admin, organizationId } = world;
    const kept = await createPrompt(h, owner, organizationId, { name: 'kept', template: '{{text}}' });
    const dropped = await createPrompt(h, owner, organizationId, { name: 'dropped', template: '{{text}}' });
    const step = await createPrompt(h, owner, organizationId, { name: 'flow step', template: '{{text}}' });
    const flow = await createFlow(h, owner, organizationId, [step], 'Preview flow');
    const key = await createApiKey(h, owner, organizationId, { promptIds: [kept, dropped] });
    for (const user of ['u1', 'u2', 'u1', null]) dataOf(await h.gql(RUN_PROMPT, { id: dropped, u: user }, { token: key.secret }));
    dataOf(await h.gql(RUN_PROMPT, { id: kept }, { token: key.secret }));
    const input = { apiKeyId: key.id, access: 'SPECIFIC', promptIds: [kept], flowIds: [flow] };
    const auditRows = await countRows(h, 'audit_events');
    const preview = dataOf(await h.gql(PREVIEW, { input }, { token: admin.token })).previewApiKeyPermissions;
    expect(preview).toEqual({
      apiKey: { id: key.id, access: 'SPECIFIC' },
      // A flow grant covers its steps.
      gainedPrompts: [{ id: step }],
      gainedFlows: [{ id: flow }],
      lostPrompts: [{ id: dropped }],
      lostFlows: [],
      wouldRefuse: [{ prompt: { id: dropped }, flow: null, runs: 4, endUsers: 2, lastRunAt: expect.any(String) }],
      refusedRuns: 4,
    });
    // Nothing changed: the grants, the audit log, what the key may run.
    expect(await countRows(h, 'audit_events')).toBe(auditRows);
    expect(dataOf(await h.gql(VIA, { p: dropped }, { token: key.secret })).checkAccess.allowed).toBe(true);
    const runnable = dataOf(await h.gql(RUNNABLE, { id: key.id }, { token: admin.token })).apiKey.runnablePrompts.nodes.map((n: any) => n.prompt.id);
    expect(runnable.sort()).toEqual([dropped, kept].sort());
    // A window that starts after the runs sees none of them.
    const later = dataOf(await h.gql(PREVIEW, { input, since: new Date(Date.now() + 60_000).toISOString() }, { token: admin.token })).previewApiKeyPermissions;
    expect(later).toMatchObject({ wouldRefuse: [], refusedRuns: 0 });
  });

  it('validates the input exactly as updateApiKeyPermissions does, and only admins may ask', async ({ h, world }) => {
    const { owner, admin, member, organizationId, promptId, otherPromptId } = world;
    const key = await createApiKey(h, owner, organizationId, { promptIds: [promptId] });
    const UPDATE = 'mutation($input: UpdateApiKeyPermissionsInput!) { updateApiKeyPermissions(input: $input) { id } }';
    for (const input of [
      { apiKeyId: key.id, access: 'ORGANIZATION', promptIds: [promptId] },
      { apiKeyId: key.id, access: 'SPECIFIC', promptIds: [otherPromptId] },
    ]) {
      const previewed = await h.gql(PREVIEW, { input }, { token: admin.token });
      const updated = await h.gql(UPDATE, { input }, { token: admin.token });
      expect(codeOf(previewed)).toBeDefined();
      expect({ code: codeOf(previewed), message: previewed.errors![0]!.message }).toEqual({ code: codeOf(updated), message: updated.errors![0]!.message });
    }
    const input = { apiKeyId: key.id, access: 'ORGANIZATION' };
    expect(codeOf(await h.gql(PREVIEW, { input }, { token: member.token }))).toBe('FORBIDDEN');
    expect(codeOf(await h.gql(PREVIEW, { input }, { token: key.secret }))).toBe('FORBIDDEN');
    expect(codeOf(await h.gql(PREVIEW, { input }, { token: world.outsider.token }))).toBe('NOT_FOUND');
    // A revoked key: the preview's refusal is the mutation's.
    dataOf(await h.gql('mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { id } }', { input: { apiKeyId: key.id } }, { token: owner.token }));
    const previewed = await h.gql(PREVIEW, { input }, { token: admin.token });
    expect(codeOf(previewed)).toBe(codeOf(await h.gql(UPDATE, { input }, { token: admin.token })));
  });
});
