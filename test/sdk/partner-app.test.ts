/**
 * A partner app: a client with an API key runs the prompts and flows it is granted, asks before
 * running, reads and rates its own runs, and is refused the rest with a typed error.
 */
import { ForbiddenError, PromptGateError, type PromptGateClient } from '@promptgate/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorld, createApiKey, createPrompt, type TestKey, type World } from '../fixtures.ts';
import { startSdkServer, type SdkServer } from './server.ts';

let s: SdkServer;
let w: World;
let key: TestKey;
let notGranted: string;
let partner: PromptGateClient;

beforeAll(async () => {
  s = await startSdkServer();
  w = await buildWorld(s.h);
  notGranted = await createPrompt(s.h, w.owner, w.organizationId, { name: 'Secret', template: 'Hidden {{text}}' });
  key = await createApiKey(s.h, w.owner, w.organizationId, { name: 'Partner', promptIds: [w.promptId], flowIds: [w.flowId] });
  partner = s.client({ apiKey: key.secret });
});
afterAll(() => s.close());

describe('a partner app with an API key', () => {
  it('sees itself as the viewer', async () => {
    const viewer = await partner.viewer();
    expect(viewer.user).toBeNull();
    expect(viewer.apiKey).toMatchObject({ id: key.id, name: 'Partner', access: 'SPECIFIC', status: 'ACTIVE', prompts: [{ id: w.promptId }] });
  });

  it('runs a granted prompt and a granted flow and gets the typed run back', async () => {
    const run = await partner.runPrompt({ promptId: w.promptId, inputs: { text: 'the news' }, endUserId: 'customer-7' });
    expect(run).toMatchObject({
      kind: 'PROMPT',
      status: 'SUCCEEDED',
      result: 'Summarize: the news',
      endUserId: 'customer-7',
      inputs: { text: 'the news' },
      prompt: { id: w.promptId, name: 'Summarize' },
      flow: null,
      apiKey: { id: key.id },
    });
    expect(run.steps).toEqual([expect.objectContaining({ position: 1, status: 'SUCCEEDED', prompt: { id: w.promptId, name: 'Summarize' } })]);

    const flowRun = await partner.runFlow({ flowId: w.flowId, inputs: { text: 'the weather' } });
    expect(flowRun).toMatchObject({ kind: 'FLOW', status: 'SUCCEEDED', result: 'Summarize: the weather', flow: { id: w.flowId }, endUserId: null });
  });

  it('asks before running: checkAccess answers allowed and why', async () => {
    // Every path in: the prompt's own grant, and the granted flow that runs it.
    expect(await partner.checkAccess({ promptId: w.promptId })).toEqual({
      allowed: true,
      reason: 'GRANTED',
      apiKey: { id: key.id, name: 'Partner' },
      via: [
        { kind: 'DIRECT_GRANT', flow: null },
        { kind: 'FLOW_GRANT', flow: { id: w.flowId, name: 'Pipeline' } },
      ],
    });
    expect(await partner.checkAccess({ flowId: w.flowId })).toMatchObject({ allowed: true, reason: 'GRANTED', via: [{ kind: 'DIRECT_GRANT', flow: null }] });
    expect(await partner.checkAccess({ promptId: notGranted })).toMatchObject({ allowed: false, reason: 'NOT_GRANTED', via: [] });
  });

  it('is refused a prompt it is not granted with a ForbiddenError carrying the reason', async () => {
    const error = await partner.runPrompt({ promptId: notGranted, inputs: { text: 'x' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toBeInstanceOf(PromptGateError);
    const refusal = error as ForbiddenError;
    expect(refusal.code).toBe('FORBIDDEN');
    expect(refusal.reason).toBe('NOT_GRANTED');
    expect(refusal.message).toBe(`API key ${key.id} is not granted prompt ${notGranted}`);
    expect(refusal.operationName).toBe('RunPrompt');
    expect(refusal.path).toEqual(['runPrompt']);
    expect(refusal.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'NOT_GRANTED', apiKeyId: key.id, promptId: notGranted });
    expect(refusal.name).toBe('ForbiddenError');
  });

  it('reads, lists page by page, and rates its own runs', async () => {
    const first = await partner.runPrompt({ promptId: w.promptId, inputs: { text: 'one' } });
    expect(await partner.run(first.id)).toMatchObject({ id: first.id, result: 'Summarize: one', rating: null });
    expect(await partner.rateRun({ runId: first.id, stars: 4 })).toMatchObject({ id: first.id, rating: 4 });

    // Someone else's run in the same organization is not in the key's list.
    await s.client({ token: w.member.token }).runPrompt({ promptId: w.promptId, inputs: { text: 'member' } });
    const page = await partner.runs(w.organizationId, { first: 2 });
    expect(page.totalCount).toBe(3);
    expect(page.nodes).toHaveLength(2);
    expect(page.hasNextPage).toBe(true);
    expect(page.nodes[0]!.id).toBe(first.id);

    const before = s.requests.count;
    const all = [];
    for await (const run of partner.iterateRuns(w.organizationId, {}, { pageSize: 1 })) all.push(run);
    expect(all.map((run) => run.apiKey?.id)).toEqual([key.id, key.id, key.id]);
    expect(new Set(all.map((run) => run.id)).size).toBe(3);
    // One request per page: the last page says there is no next one.
    expect(s.requests.count - before).toBe(3);

    const flowRuns = await partner.runs(w.organizationId, { flowId: w.flowId, status: 'SUCCEEDED' });
    expect(flowRuns.nodes.map((run) => run.kind)).toEqual(['FLOW']);
  });

  it('reads its own key by id', async () => {
    expect(await partner.apiKey(key.id)).toMatchObject({ id: key.id, prefix: key.secret.slice(0, 12) });
  });
});
