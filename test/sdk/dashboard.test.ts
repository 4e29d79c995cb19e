/**
 * The dashboard: a user signs up or logs in and manages organizations, members, prompts, flows,
 * keys and their permissions, reads runs, usage and the audit log — all through the SDK.
 */
import { randomBytes } from 'node:crypto';
import {
  BadUserInputError,
  CheckAccessDocument,
  UnauthenticatedError,
  type ApiKey,
  type PromptGateClient,
  type TypedDocumentNode,
} from '@promptgate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_OWNER, seedDemo } from '../../server/db/seed.ts';
import { startSdkServer, type SdkServer } from './server.ts';

let s: SdkServer;
let owner: PromptGateClient;
let ownerId: string;
let organizationId: string;
const email = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  s = await startSdkServer();
  const signedUp = await s.client().signUp({ email: email('owner'), name: 'Olivia Owner', password: PASSWORD });
  owner = s.client({ token: signedUp.token });
  ownerId = signedUp.user.id;
  organizationId = (await owner.createOrganization({ name: 'Acme' })).id;
});
afterAll(() => s.close());

describe('accounts and sessions', () => {
  it('offers the demo account only while it signs in on the embedded store', async () => {
    const anonymous = s.client();
    expect(await anonymous.demoSignIn()).toBeNull();
    await seedDemo(s.h.orm.em.fork());
    const demo = await anonymous.demoSignIn();
    if (s.h.dialect === 'postgresql') return expect(demo).toBeNull();
    expect(demo).toEqual({ email: DEMO_OWNER.email, password: DEMO_OWNER.password });
    expect((await anonymous.logIn(demo!)).user.email).toBe(DEMO_OWNER.email);
  });

  it('signs up, logs in, sees itself as the viewer, and logs out', async () => {
    const anonymous = s.client();
    const address = email('ada');
    const signedUp = await anonymous.signUp({ email: address, name: 'Ada', password: PASSWORD });
    expect(signedUp).toMatchObject({ token: expect.stringMatching(/^pgs_/), user: { name: 'Ada', email: address } });
    expect(await anonymous.viewer()).toEqual({ user: null, apiKey: null });

    const { token, user } = await anonymous.logIn({ email: address, password: PASSWORD });
    expect(user.id).toBe(signedUp.user.id);
    const ada = s.client({ token });
    expect((await ada.viewer()).user).toMatchObject({ id: user.id, name: 'Ada', memberships: [] });
    expect(await ada.logOut()).toBe(true);
    await expect(ada.viewer()).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});

describe('organizations and members', () => {
  it('creates an organization, adds, promotes and removes a member', async () => {
    const org = await owner.createOrganization({ name: 'Initech' });
    expect(org).toMatchObject({ name: 'Initech', viewerRole: 'OWNER' });

    const bob = await s.client().signUp({ email: email('bob'), name: 'Bob', password: PASSWORD });
    expect(await owner.addMember({ organizationId: org.id, email: bob.user.email, role: 'MEMBER' })).toMatchObject({
      role: 'MEMBER',
      user: { id: bob.user.id },
      organization: { id: org.id, name: 'Initech' },
    });
    expect(await owner.updateMemberRole({ organizationId: org.id, userId: bob.user.id, role: 'ADMIN' })).toMatchObject({ role: 'ADMIN' });
    const withMembers = await owner.organization(org.id);
    expect(withMembers?.members.map((m) => [m.user.id, m.role]).sort()).toEqual([[bob.user.id, 'ADMIN'], [ownerId, 'OWNER']].sort());

    expect(await owner.removeMember({ organizationId: org.id, userId: bob.user.id })).toBe(bob.user.id);
    expect((await owner.organization(org.id))?.members).toHaveLength(1);
  });
});

describe('prompts and flows', () => {
  it('creates, reads, lists, updates and deletes prompts', async () => {
    const names = ['Alpha', 'Beta', 'Gamma'];
    const created = [];
    for (const name of names) created.push(await owner.createPrompt({ organizationId, name, template: `${name} {{text}}` }));
    expect(created[0]).toMatchObject({ name: 'Alpha', model: 'echo', variables: ['text'], description: null, organization: { id: organizationId } });

    const updated = await owner.updatePrompt({ promptId: created[0]!.id, description: 'First', template: 'Alpha {{text}} {{tone}}' });
    expect(updated).toMatchObject({ description: 'First', variables: ['text', 'tone'] });
    expect(await owner.prompt(created[0]!.id)).toEqual(updated);

    const page = await owner.prompts(organizationId, { first: 2 });
    expect(page).toMatchObject({ totalCount: 3, hasNextPage: true });
    expect(page.nodes.map((p) => p.name)).toEqual(['Alpha', 'Beta']);
    const next = await owner.prompts(organizationId, { first: 2, after: page.endCursor });
    expect(next.nodes.map((p) => p.name)).toEqual(['Gamma']);
    expect(next.hasNextPage).toBe(false);

    const all = [];
    for await (const prompt of owner.iteratePrompts(organizationId, { pageSize: 2 })) all.push(prompt.name);
    expect(all).toEqual(names);

    expect(await owner.deletePrompt({ promptId: created[2]!.id })).toBe(created[2]!.id);
    expect((await owner.prompts(organizationId)).totalCount).toBe(2);
  });

  it('creates, reads, lists, updates and deletes flows', async () => {
    const first = await owner.createPrompt({ organizationId, name: 'Step one', template: 'One {{text}}' });
    const second = await owner.createPrompt({ organizationId, name: 'Step two', template: 'Two {{previous}}' });
    const flow = await owner.createFlow({ organizationId, name: 'Pipeline', steps: [{ promptId: first.id }] });
    expect(flow).toMatchObject({ name: 'Pipeline', variables: ['text'], steps: [{ position: 1, prompt: { id: first.id } }] });

    const updated = await owner.updateFlow({ flowId: flow.id, description: 'Two steps', steps: [{ promptId: first.id }, { promptId: second.id }] });
    expect(updated.steps.map((step) => step.prompt.name)).toEqual(['Step one', 'Step two']);
    expect(await owner.flow(flow.id)).toEqual(updated);

    const other = await owner.createFlow({ organizationId, name: 'Another', steps: [{ promptId: second.id }] });
    expect((await owner.flows(organizationId)).nodes.map((f) => f.name)).toEqual(['Another', 'Pipeline']);
    const all = [];
    for await (const f of owner.iterateFlows(organizationId, { pageSize: 1 })) all.push(f.id);
    expect(all).toEqual([other.id, flow.id]);

    const run = await owner.runFlow({ flowId: flow.id, inputs: { text: 'go' } });
    expect(run).toMatchObject({ status: 'SUCCEEDED', result: 'Two One go' });

    expect(await owner.deleteFlow({ flowId: other.id })).toBe(other.id);
    expect((await owner.flows(organizationId)).totalCount).toBe(1);
  });
});

describe('API keys and their permissions', () => {
  it('issues keys, lists every key and the keys available to a prompt, and changes permissions', async () => {
    const prompt = await owner.createPrompt({ organizationId, name: 'Integrate me', template: 'Hi {{name}}' });
    const orgWide = await owner.createApiKey({ organizationId, name: 'A org-wide' });
    expect(orgWide.secret).toMatch(/^pgk_/);
    expect(orgWide.apiKey).toMatchObject({ name: 'A org-wide', access: 'ORGANIZATION', status: 'ACTIVE', prompts: [] });
    const specific = await owner.createApiKey({ organizationId, name: 'B specific', access: 'SPECIFIC', promptIds: [prompt.id] });
    const elsewhere = await owner.createApiKey({ organizationId, name: 'C elsewhere', access: 'SPECIFIC', promptIds: [] });
    const expiring = await owner.createApiKey({ organizationId, name: 'D expiring', expiresAt: new Date(Date.now() + 86_400_000) });

    expect(await owner.apiKey(specific.apiKey.id)).toEqual(specific.apiKey);
    const names = (keys: ApiKey[]) => keys.map((k) => k.name);
    expect(names(await owner.availableApiKeys({ promptId: prompt.id }))).toEqual(['A org-wide', 'B specific', 'D expiring']);

    // Page after page: three keys in pages of two are two requests.
    const before = s.requests.count;
    const iterated: ApiKey[] = [];
    for await (const k of owner.iterateAvailableApiKeys({ promptId: prompt.id }, { pageSize: 2 })) iterated.push(k);
    expect(names(iterated)).toEqual(['A org-wide', 'B specific', 'D expiring']);
    expect(s.requests.count - before).toBe(2);

    // The Manage Permissions panel: grant the prompt to the key that lacked it.
    expect(await owner.checkAccess({ promptId: prompt.id }, elsewhere.apiKey.id)).toMatchObject({ allowed: false, reason: 'NOT_GRANTED' });
    const granted = await owner.updateApiKeyPermissions({ apiKeyId: elsewhere.apiKey.id, access: 'SPECIFIC', promptIds: [prompt.id] });
    expect(granted.prompts).toEqual([{ id: prompt.id, name: 'Integrate me' }]);
    expect(await owner.checkAccess({ promptId: prompt.id }, elsewhere.apiKey.id)).toMatchObject({ allowed: true, reason: 'GRANTED' });
    expect(names(await owner.availableApiKeys({ promptId: prompt.id }))).toEqual(['A org-wide', 'B specific', 'C elsewhere', 'D expiring']);

    const renamed = await owner.updateApiKey({ apiKeyId: expiring.apiKey.id, name: 'D forever', expiresAt: null });
    expect(renamed).toMatchObject({ name: 'D forever', expiresAt: null });

    const rotated = await owner.rotateApiKey({ apiKeyId: specific.apiKey.id, gracePeriodSeconds: 0 });
    expect(rotated.apiKey.id).toBe(specific.apiKey.id);
    expect(rotated.secret).not.toBe(specific.secret);
    await expect(s.client({ apiKey: specific.secret }).viewer()).rejects.toBeInstanceOf(UnauthenticatedError);
    expect((await s.client({ apiKey: rotated.secret }).viewer()).apiKey?.id).toBe(specific.apiKey.id);

    const revoked = await owner.revokeApiKey({ apiKeyId: orgWide.apiKey.id });
    expect(revoked).toMatchObject({ status: 'REVOKED', revokedAt: expect.any(String) });
    expect(names(await owner.availableApiKeys({ promptId: prompt.id }))).toEqual(['B specific', 'C elsewhere', 'D forever']);

    const everyKey = await owner.apiKeys(organizationId);
    expect(everyKey.totalCount).toBe(4);
    const iteratedKeys = [];
    for await (const k of owner.iterateApiKeys(organizationId, { pageSize: 3 })) iteratedKeys.push(k.name);
    expect(iteratedKeys).toEqual(['A org-wide', 'B specific', 'C elsewhere', 'D forever']);
  });

  it('follows every page of availableApiKeys past the largest page the server gives', async () => {
    const org = await owner.createOrganization({ name: 'Many keys' });
    const step = await owner.createPrompt({ organizationId: org.id, name: 'Step', template: 'x' });
    const flow = await owner.createFlow({ organizationId: org.id, name: 'Flow', steps: [{ promptId: step.id }] });
    for (let i = 0; i < 101; i++) await owner.createApiKey({ organizationId: org.id, name: `key ${String(i).padStart(3, '0')}` });
    const before = s.requests.count;
    const keys = await owner.availableApiKeys({ flowId: flow.id });
    expect(keys).toHaveLength(101);
    expect(keys[100]!.name).toBe('key 100');
    // Pages of 100, the most the server gives: two requests.
    expect(s.requests.count - before).toBe(2);
  });
});

describe('the console', () => {
  it('reads one page of the Integrate tab with its total, and a key with the steps of each granted flow', async () => {
    const org = await owner.createOrganization({ name: 'Console' });
    const first = await owner.createPrompt({ organizationId: org.id, name: 'First', template: '{{text}}' });
    const second = await owner.createPrompt({ organizationId: org.id, name: 'Second', template: '{{text}}' });
    const flow = await owner.createFlow({ organizationId: org.id, name: 'Both', steps: [{ promptId: first.id }, { promptId: second.id }] });
    for (const name of ['k1', 'k2', 'k3']) await owner.createApiKey({ organizationId: org.id, name });
    const key = await owner.createApiKey({ organizationId: org.id, name: 'k4 flow only', access: 'SPECIFIC', flowIds: [flow.id] });

    const page = await owner.availableApiKeysPage({ promptId: second.id }, { first: 2 });
    expect(page).toMatchObject({ totalCount: 4, hasNextPage: true, nodes: [{ name: 'k1' }, { name: 'k2' }] });
    const next = await owner.availableApiKeysPage({ promptId: second.id }, { first: 2, after: page.endCursor });
    expect(next.nodes.map((k) => k.name)).toEqual(['k3', 'k4 flow only']);
    expect(next.hasNextPage).toBe(false);

    const grants = await owner.apiKeyPermissions(key.apiKey.id);
    expect(grants).toMatchObject({ id: key.apiKey.id, access: 'SPECIFIC', prompts: [] });
    expect(grants!.flows).toEqual([
      { id: flow.id, name: 'Both', steps: [{ position: 1, prompt: { id: first.id, name: 'First' } }, { position: 2, prompt: { id: second.id, name: 'Second' } }] },
    ]);
  });

  it('searches prompts, flows, keys and the Integrate tab on the server, paging with the search', async () => {
    const org = await owner.createOrganization({ name: 'Searched' });
    const wanted = await owner.createPrompt({ organizationId: org.id, name: 'Invoice_total', template: '{{text}}' });
    await owner.createPrompt({ organizationId: org.id, name: 'InvoiceXtotal', template: '{{text}}' });
    await owner.createFlow({ organizationId: org.id, name: 'Monthly INVOICE run', steps: [{ promptId: wanted.id }] });
    for (const name of ['Invoices A', 'invoices B', 'Billing']) await owner.createApiKey({ organizationId: org.id, name });

    expect((await owner.prompts(org.id, { search: 'e_t' })).nodes.map((p) => p.name)).toEqual(['Invoice_total']);
    expect((await owner.flows(org.id, { search: 'invoice' })).nodes.map((f) => f.name)).toEqual(['Monthly INVOICE run']);
    const keys = await owner.apiKeys(org.id, { search: 'INVOICES', first: 1 });
    expect(keys).toMatchObject({ totalCount: 2, hasNextPage: true, nodes: [{ name: 'Invoices A' }] });
    const rest = await owner.apiKeys(org.id, { search: 'INVOICES', first: 1, after: keys.endCursor });
    expect(rest).toMatchObject({ totalCount: 2, hasNextPage: false, nodes: [{ name: 'invoices B' }] });
    const available = await owner.availableApiKeysPage({ promptId: wanted.id }, { search: 'bill' });
    expect(available).toMatchObject({ totalCount: 1, nodes: [{ name: 'Billing' }] });
    await expect(owner.prompts(org.id, { search: 'x'.repeat(101) })).rejects.toBeInstanceOf(BadUserInputError);
  });
});

describe('runs, usage and the audit log', () => {
  it('reads a key usage per UTC day in one request, and a page of keys with their runs per day', async () => {
    const org = await owner.createOrganization({ name: 'Daily' });
    const prompt = await owner.createPrompt({ organizationId: org.id, name: 'Daily', template: '{{text}}' });
    const issued = await owner.createApiKey({ organizationId: org.id, name: 'Daily runner' });
    const before = s.requests.count;
    await s.client({ apiKey: issued.secret }).runPrompt({ promptId: prompt.id, inputs: { text: 'x' } });
    await s.client({ apiKey: issued.secret }).runPrompt({ promptId: prompt.id, inputs: { text: 'y' } });
    expect(s.requests.count - before).toBe(2);

    const today = new Date().toISOString().slice(0, 10);
    const requests = s.requests.count;
    const usage = await owner.apiKeyDailyUsage(issued.apiKey.id, { days: 3 });
    expect(s.requests.count - requests).toBe(1);
    expect(usage!.usage.runs).toBe(2);
    expect(usage!.usageByResource).toMatchObject([{ kind: 'PROMPT', prompt: { id: prompt.id }, usage: { runs: 2 } }]);
    expect(usage!.dailyUsage.map((d) => d.usage.runs)).toEqual([0, 0, 2]);
    expect(usage!.dailyUsage.at(-1)!.day).toBe(today);

    const keys = await owner.apiKeysWithDailyRuns(org.id, { days: 2, search: 'daily' });
    expect(keys.nodes).toMatchObject([{ name: 'Daily runner', dailyUsage: [{ usage: { runs: 0 } }, { day: today, usage: { runs: 2 } }] }]);
    await expect(owner.apiKeyDailyUsage(issued.apiKey.id, { days: 91 })).rejects.toBeInstanceOf(BadUserInputError);
  });

  it('lists runs with filters, reads a key usage and the audit log', async () => {
    const prompt = await owner.createPrompt({ organizationId, name: 'Measured', template: 'M {{text}}' });
    const issued = await owner.createApiKey({ organizationId, name: 'Measured key' });
    const partner = s.client({ apiKey: issued.secret });
    await partner.runPrompt({ promptId: prompt.id, inputs: { text: 'a' } });
    await partner.runPrompt({ promptId: prompt.id, inputs: { text: 'b' } });

    const runs = await owner.runs(organizationId, { apiKeyId: issued.apiKey.id });
    expect(runs.totalCount).toBe(2);
    expect(runs.nodes.map((run) => run.result)).toEqual(['M b', 'M a']);
    expect((await owner.runs(organizationId, { promptId: prompt.id, status: 'FAILED' })).totalCount).toBe(0);

    const usage = await owner.apiKeyUsage(issued.apiKey.id);
    expect(usage).toMatchObject({ id: issued.apiKey.id, usage: { runs: 2, succeeded: 2, failed: 0 } });
    expect(usage?.usageByResource).toEqual([expect.objectContaining({ kind: 'PROMPT', prompt: { id: prompt.id, name: 'Measured' }, usage: expect.objectContaining({ runs: 2 }) })]);
    const future = await owner.apiKeyUsage(issued.apiKey.id, { since: new Date(Date.now() + 3_600_000) });
    expect(future?.usage.runs).toBe(0);

    const log = await owner.auditLog(organizationId, { first: 5 });
    expect(log.totalCount).toBeGreaterThan(5);
    expect(log.nodes[0]).toMatchObject({ action: 'api_key.created', targetId: issued.apiKey.id, actorUser: { id: ownerId } });
    let events = 0;
    for await (const event of owner.iterateAuditLog(organizationId, { pageSize: 50 })) {
      expect(event.action).toMatch(/^[a-z_]+\.[a-z_]+$/);
      events++;
    }
    expect(events).toBe(log.totalCount);
  });
});

describe('the typed documents', () => {
  it('run through client.request and the generated operations', async () => {
    const prompt = await owner.createPrompt({ organizationId, name: 'Docs', template: 'x' });
    const key = await owner.createApiKey({ organizationId, name: 'Docs key' });
    const data = await owner.request(CheckAccessDocument, { promptId: prompt.id, apiKeyId: key.apiKey.id });
    expect(data.checkAccess).toMatchObject({ allowed: true, reason: 'ORGANIZATION_WIDE' });
    const raw = await owner.operations.Prompt({ id: prompt.id });
    expect(raw.prompt?.name).toBe('Docs');

    // A document of one's own, typed by hand.
    const mine = { kind: 'Document', definitions: [] } as unknown as TypedDocumentNode<unknown, Record<string, never>>;
    await expect(owner.request(mine)).rejects.toThrow(TypeError);
  });
});
