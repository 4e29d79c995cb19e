/**
 * Permission insight through the SDK, as a dashboard and a partner app use it: the paths of a
 * decision, what a key can run, its grants with their use, and the preview of a change.
 */
import { randomBytes } from 'node:crypto';
import { ForbiddenError, type AccessPath, type PermissionPreview, type PromptGateClient, type RunnablePrompt } from '@promptgate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkServer, type SdkServer } from './server.ts';

let s: SdkServer;
let admin: PromptGateClient;
let organizationId: string;

beforeAll(async () => {
  s = await startSdkServer();
  const signedUp = await s.client().signUp({ email: `insight-${randomBytes(4).toString('hex')}@example.com`, name: 'Ines Insight', password: 'correct horse battery staple' });
  admin = s.client({ token: signedUp.token });
  organizationId = (await admin.createOrganization({ name: 'Insightful' })).id;
});
afterAll(() => s.close());

describe('permission insight through the SDK', () => {
  it('shows the paths, the runnable lists, the grants with their use and a preview, typed', async () => {
    const summarize = await admin.createPrompt({ organizationId, name: 'Summarize', template: 'Summarize {{text}}' });
    const translate = await admin.createPrompt({ organizationId, name: 'Translate', template: 'Translate {{text}}' });
    const flow = await admin.createFlow({ organizationId, name: 'Digest', steps: [{ promptId: summarize.id }] });
    const issued = await admin.createApiKey({ organizationId, name: 'Partner', access: 'SPECIFIC', promptIds: [summarize.id, translate.id], flowIds: [flow.id] });
    const partner = s.client({ apiKey: issued.secret });

    // The partner app discovers what it may run, and why.
    const decision = await partner.checkAccess({ promptId: summarize.id });
    const via: AccessPath[] = decision.via;
    expect(via).toEqual([{ kind: 'DIRECT_GRANT', flow: null }, { kind: 'FLOW_GRANT', flow: { id: flow.id, name: 'Digest' } }]);
    const firstPage = await partner.runnablePrompts(issued.apiKey.id, { first: 1 });
    expect(firstPage).toMatchObject({ totalCount: 2, hasNextPage: true, nodes: [{ prompt: { id: summarize.id, variables: ['text'] } }] });
    const all: RunnablePrompt[] = [];
    for await (const item of partner.iterateRunnablePrompts(issued.apiKey.id, { pageSize: 1 })) all.push(item);
    expect(all.map((item) => item.prompt.name)).toEqual(['Summarize', 'Translate']);
    expect((await partner.runnableFlows(issued.apiKey.id)).nodes).toEqual([{ flow: { id: flow.id, name: 'Digest' }, via: [{ kind: 'DIRECT_GRANT', flow: null }] }]);
    const flows = [];
    for await (const item of admin.iterateRunnableFlows(issued.apiKey.id)) flows.push(item.flow.id);
    expect(flows).toEqual([flow.id]);

    await partner.runPrompt({ promptId: translate.id, inputs: { text: 'hola' }, endUserId: 'user-1' });
    const grants = await admin.apiKeyGrants(issued.apiKey.id);
    expect(grants.find((grant) => grant.prompt?.id === translate.id)).toMatchObject({ runs: 1, lastUsedAt: expect.any(String), grantedAt: expect.any(String) });
    expect(grants.find((grant) => grant.flow?.id === flow.id)).toMatchObject({ runs: 0, lastUsedAt: null });
    expect((await admin.apiKeyGrants(issued.apiKey.id, new Date(Date.now() + 60_000))).every((grant) => grant.runs === 0)).toBe(true);

    // Before narrowing the key to the flow: who would be broken?
    const preview: PermissionPreview = await admin.previewApiKeyPermissions({ apiKeyId: issued.apiKey.id, access: 'SPECIFIC', flowIds: [flow.id] });
    expect(preview).toMatchObject({
      lostPrompts: [{ id: translate.id }],
      gainedPrompts: [],
      wouldRefuse: [{ prompt: { id: translate.id, name: 'Translate' }, flow: null, runs: 1, endUsers: 1 }],
      refusedRuns: 1,
    });
    // Nothing changed; and a key may not preview changes to itself.
    expect((await partner.checkAccess({ promptId: translate.id })).allowed).toBe(true);
    await expect(partner.previewApiKeyPermissions({ apiKeyId: issued.apiKey.id, access: 'ORGANIZATION' })).rejects.toBeInstanceOf(ForbiddenError);
  });
});
