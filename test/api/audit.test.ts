import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { codeOf, dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';
import {
  addMember,
  buildWorld,
  countRows,
  createOrganization,
  createPrompt,
  messageShape,
  missingId,
  signUpUser,
  type TestUser,
  type World,
} from '../fixtures.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const AUDIT_LOG = `query($id: ID!, $first: Int, $after: String) { organization(id: $id) {
  auditLog(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
    nodes { id action actorUser { id } targetId changes createdAt }
  } } }`;

function auditLog(as: TestUser, organizationId: string, first?: number, after?: string | null) {
  return h.gql(AUDIT_LOG, { id: organizationId, first, after }, { token: as.token });
}
async function events(as: TestUser, organizationId: string): Promise<any[]> {
  return dataOf(await auditLog(as, organizationId, 100)).organization.auditLog.nodes;
}
function auditRows(organizationId: string) {
  return countRows(h, 'audit_events', { organization_id: organizationId });
}
function mutate(as: TestUser, mutation: string, input: Record<string, unknown>): Promise<GraphQLResponse> {
  return h.gql(`mutation($input: ${inputTypeOf(mutation)}!) { ${mutation}(input: $input) ${selectionOf(mutation)} }`, { input }, { token: as.token });
}
function inputTypeOf(mutation: string): string {
  return mutation[0]!.toUpperCase() + mutation.slice(1) + 'Input';
}
function selectionOf(mutation: string): string {
  if (['removeMember', 'deletePrompt', 'deleteFlow'].includes(mutation)) return '';
  if (['addMember', 'updateMemberRole'].includes(mutation)) return '{ role }';
  return '{ id }';
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one change and checks that it wrote exactly one audit row, the newest in the log, with
 * this action, actor, target and changes.
 */
async function expectOneEvent(
  organizationId: string,
  reader: TestUser,
  change: () => Promise<GraphQLResponse>,
  expected: { action: string; actor: TestUser; targetId: string; changes: unknown },
) {
  const before = await auditRows(organizationId);
  const startedAt = Date.now();
  dataOf(await change());
  expect(await auditRows(organizationId)).toBe(before + 1);
  const [newest] = await events(reader, organizationId);
  expect(newest).toEqual({
    id: expect.stringMatching(/^aud_[0-9a-z]{26}$/),
    action: expected.action,
    actorUser: { id: expected.actor.id },
    targetId: expected.targetId,
    changes: expected.changes,
    createdAt: expect.any(String),
  });
  expect(Date.parse(newest.createdAt)).toBeGreaterThanOrEqual(startedAt - 1000);
  expect(await countRows(h, 'audit_events', { action: expected.action, target_id: newest.targetId })).toBe(1);
  return newest;
}

describe('every change writes one audit event', () => {
  it('organization.created, with the creator as actor and the name after', async () => {
    const creator = await signUpUser(h, 'Founder');
    const organizationId = await createOrganization(h, creator, 'Audited');
    expect(await auditRows(organizationId)).toBe(1);
    expect(await events(creator, organizationId)).toEqual([
      {
        id: expect.any(String),
        action: 'organization.created',
        actorUser: { id: creator.id },
        targetId: organizationId,
        changes: { after: { name: 'Audited' } },
        createdAt: expect.any(String),
      },
    ]);
  });

  it('member.added, member.role_updated and member.removed, with before and after roles', async () => {
    const w = await buildWorld(h);
    const newcomer = await signUpUser(h, 'Newcomer');
    await expectOneEvent(w.organizationId, w.owner, () => mutate(w.admin, 'addMember', { organizationId: w.organizationId, email: newcomer.email, role: 'MEMBER' }), {
      action: 'member.added',
      actor: w.admin,
      targetId: newcomer.id,
      changes: { after: { userId: newcomer.id, email: newcomer.email, role: 'MEMBER' } },
    });
    await expectOneEvent(w.organizationId, w.owner, () => mutate(w.owner, 'updateMemberRole', { organizationId: w.organizationId, userId: newcomer.id, role: 'ADMIN' }), {
      action: 'member.role_updated',
      actor: w.owner,
      targetId: newcomer.id,
      changes: { before: { role: 'MEMBER' }, after: { role: 'ADMIN' } },
    });
    await expectOneEvent(w.organizationId, w.owner, () => mutate(w.owner, 'removeMember', { organizationId: w.organizationId, userId: newcomer.id }), {
      action: 'member.removed',
      actor: w.owner,
      targetId: newcomer.id,
      changes: { before: { userId: newcomer.id, role: 'ADMIN' } },
    });
  });

  it('prompt.created, prompt.updated and prompt.deleted, with the prompt before and after', async () => {
    const w = await buildWorld(h);
    const created = await expectOneEvent(
      w.organizationId,
      w.admin,
      () => mutate(w.member, 'createPrompt', { organizationId: w.organizationId, name: 'Audited prompt', template: 'Hi {{name}}' }),
      {
        action: 'prompt.created',
        actor: w.member,
        targetId: expect.stringMatching(/^prm_/) as unknown as string,
        changes: { after: { name: 'Audited prompt', description: null, template: 'Hi {{name}}', model: 'echo' } },
      },
    );
    const promptId = created.targetId;
    expect(await countRows(h, 'prompts', { id: promptId })).toBe(1);

    await expectOneEvent(
      w.organizationId,
      w.admin,
      () => mutate(w.member, 'updatePrompt', { promptId, template: 'Hello {{name}}', description: 'Friendlier' }),
      {
        action: 'prompt.updated',
        actor: w.member,
        targetId: promptId,
        changes: {
          before: { name: 'Audited prompt', description: null, template: 'Hi {{name}}', model: 'echo' },
          after: { name: 'Audited prompt', description: 'Friendlier', template: 'Hello {{name}}', model: 'echo' },
        },
      },
    );
    await expectOneEvent(w.organizationId, w.admin, () => mutate(w.admin, 'deletePrompt', { promptId }), {
      action: 'prompt.deleted',
      actor: w.admin,
      targetId: promptId,
      changes: { before: { name: 'Audited prompt', description: 'Friendlier', template: 'Hello {{name}}', model: 'echo' } },
    });
  });

  it('flow.created, flow.updated and flow.deleted, with the steps before and after', async () => {
    const w = await buildWorld(h);
    const second = await createPrompt(h, w.member, w.organizationId, { name: 'Second', template: '{{previous}} more' });
    const created = await expectOneEvent(
      w.organizationId,
      w.owner,
      () => mutate(w.member, 'createFlow', { organizationId: w.organizationId, name: 'Audited flow', steps: [{ promptId: w.promptId }] }),
      {
        action: 'flow.created',
        actor: w.member,
        targetId: expect.stringMatching(/^flw_/) as unknown as string,
        changes: { after: { name: 'Audited flow', description: null, steps: [w.promptId] } },
      },
    );
    const flowId = created.targetId;
    await expectOneEvent(
      w.organizationId,
      w.owner,
      () => mutate(w.admin, 'updateFlow', { flowId, name: 'Renamed flow', steps: [{ promptId: w.promptId }, { promptId: second }] }),
      {
        action: 'flow.updated',
        actor: w.admin,
        targetId: flowId,
        changes: {
          before: { name: 'Audited flow', description: null, steps: [w.promptId] },
          after: { name: 'Renamed flow', description: null, steps: [w.promptId, second] },
        },
      },
    );
    await expectOneEvent(w.organizationId, w.owner, () => mutate(w.owner, 'deleteFlow', { flowId }), {
      action: 'flow.deleted',
      actor: w.owner,
      targetId: flowId,
      changes: { before: { name: 'Renamed flow', description: null, steps: [w.promptId, second] } },
    });
  });

  it("keeps each organization's events to itself", async () => {
    const w = await buildWorld(h);
    const ours = await events(w.owner, w.organizationId);
    const theirs = await events(w.outsider, w.otherOrganizationId);
    expect(ours.map((e) => e.action).sort()).toEqual(['flow.created', 'member.added', 'member.added', 'organization.created', 'prompt.created']);
    expect(theirs.map((e) => e.action).sort()).toEqual(['flow.created', 'organization.created', 'prompt.created']);
    expect(ours.map((e) => e.id)).not.toContain(theirs[0].id);
  });
});

describe('auditLog reads', () => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(h);
    // 5 events from buildWorld, 12 more here, each in its own millisecond.
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Edited' });
    for (let i = 1; i <= 11; i++) {
      await pause(2);
      dataOf(await mutate(w.member, 'updatePrompt', { promptId, name: `Edit ${i}` }));
    }
  });

  it('lists events newest first', async () => {
    const all = await events(w.owner, w.organizationId);
    expect(all).toHaveLength(17);
    const times = all.map((e) => Date.parse(e.createdAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(all.slice(0, 11).map((e) => e.changes.after.name)).toEqual(Array.from({ length: 11 }, (_, i) => `Edit ${11 - i}`));
    expect(all.at(-1)).toMatchObject({ action: 'organization.created', targetId: w.organizationId });
  });

  it('pages through the log with first/after, every event once, in the same order', async () => {
    const all = (await events(w.owner, w.organizationId)).map((e) => e.id);
    const paged: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const log: any = dataOf(await auditLog(w.admin, w.organizationId, 5, after)).organization.auditLog;
      expect(log.totalCount).toBe(17);
      expect(log.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(log.edges.map((e: any) => e.node.id)).toEqual(log.nodes.map((n: any) => n.id));
      expect(log.pageInfo.startCursor).toBe(log.edges[0].cursor);
      expect(log.pageInfo.endCursor).toBe(log.edges.at(-1).cursor);
      paged.push(...log.nodes.map((n: any) => n.id));
      if (!log.pageInfo.hasNextPage) break;
      expect(log.nodes).toHaveLength(5);
      after = log.pageInfo.endCursor;
    }
    expect(paged).toEqual(all);
  });

  it('returns 20 events unless asked, at most 100, and refuses a bad page size or cursor as BAD_USER_INPUT', async () => {
    const page = dataOf(await auditLog(w.owner, w.organizationId)).organization.auditLog;
    expect(page.nodes).toHaveLength(17);
    for (let i = 0; i < 4; i++) await createPrompt(h, w.member, w.organizationId, { name: `More ${i}` });
    const defaultPage = dataOf(await auditLog(w.owner, w.organizationId)).organization.auditLog;
    expect(defaultPage.totalCount).toBe(21);
    expect(defaultPage.nodes).toHaveLength(20);
    expect(defaultPage.pageInfo.hasNextPage).toBe(true);

    for (const first of [101, -1]) {
      const result = await auditLog(w.owner, w.organizationId, first);
      expect(codeOf(result), String(first)).toBe('BAD_USER_INPUT');
      expect(result.errors![0]!.message).toContain('first');
    }
    const badCursor = await auditLog(w.owner, w.organizationId, 5, 'not-a-cursor');
    expect(codeOf(badCursor)).toBe('BAD_USER_INPUT');
    expect(badCursor.errors![0]!.message).toContain('after');
  });

  it('is open to ADMIN and OWNER, FORBIDDEN to a MEMBER, NOT_FOUND to an outsider like an organization that does not exist', async () => {
    const byOwner = dataOf(await auditLog(w.owner, w.organizationId, 100)).organization.auditLog;
    const byAdmin = dataOf(await auditLog(w.admin, w.organizationId, 100)).organization.auditLog;
    expect(byAdmin.totalCount).toBeGreaterThan(0);
    expect(byAdmin.nodes).toEqual(byOwner.nodes);

    const member = await auditLog(w.member, w.organizationId);
    expect(codeOf(member)).toBe('FORBIDDEN');
    expect(member.data).toEqual({ organization: null });

    const hidden = await auditLog(w.outsider, w.organizationId);
    const missing = missingId('org');
    const absent = await auditLog(w.outsider, missing);
    expect(codeOf(hidden)).toBe('NOT_FOUND');
    expect(codeOf(absent)).toBe('NOT_FOUND');
    expect(messageShape(hidden, w.organizationId)).toBe(messageShape(absent, missing));
  });

  it('shows an event through node(id) to an admin, FORBIDDEN to a member and NOT_FOUND to an outsider', async () => {
    const [event] = await events(w.owner, w.organizationId);
    const NODE = `query($id: ID!) { node(id: $id) { id ... on AuditEvent { action } } }`;
    expect(dataOf(await h.gql(NODE, { id: event.id }, { token: w.admin.token })).node).toEqual({ id: event.id, action: event.action });
    expect(codeOf(await h.gql(NODE, { id: event.id }, { token: w.member.token }))).toBe('FORBIDDEN');
    expect(codeOf(await h.gql(NODE, { id: event.id }, { token: w.outsider.token }))).toBe('NOT_FOUND');
  });

  it('still reads, naming the actor, after the actor has left the organization', async () => {
    const fresh = await buildWorld(h);
    // The member created something, then leaves; the trail must outlive the membership.
    await createPrompt(h, fresh.member, fresh.organizationId, { name: 'Left behind' });
    dataOf(await mutate(fresh.member, 'removeMember', { organizationId: fresh.organizationId, userId: fresh.member.id }));
    const result = await auditLog(fresh.owner, fresh.organizationId, 100);
    const log = dataOf(result).organization.auditLog.nodes;
    expect(log[0]).toMatchObject({ action: 'member.removed', actorUser: { id: fresh.member.id }, targetId: fresh.member.id });
    expect(log[1]).toMatchObject({ action: 'prompt.created', actorUser: { id: fresh.member.id } });
  });
});

describe('auditLog order within one millisecond', () => {
  it('keeps newest first for successive changes that the clock stamps with the same millisecond', async () => {
    const w = await buildWorld(h);
    const promptId = await createPrompt(h, w.member, w.organizationId, { name: 'Quick' });
    // A clock that does not move between requests: a fast server, or a coarse system clock.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date(Date.now() + 1000));
      for (let i = 1; i <= 8; i++) dataOf(await mutate(w.member, 'updatePrompt', { promptId, name: `Quick ${i}` }));
    } finally {
      vi.useRealTimers();
    }
    const log = dataOf(await auditLog(w.owner, w.organizationId, 8)).organization.auditLog.nodes;
    expect(new Set(log.map((e: any) => e.createdAt)).size).toBe(1);
    expect(log.map((e: any) => e.changes.after.name)).toEqual(Array.from({ length: 8 }, (_, i) => `Quick ${8 - i}`));
  });
});

describe('refused changes write nothing', () => {
  let w: World;
  beforeAll(async () => {
    w = await buildWorld(h);
  });

  it('writes no event for a change refused as invalid, forbidden, not found or conflicting', async () => {
    const stranger = await signUpUser(h, 'Stranger');
    const otherAdmin = await signUpUser(h, 'OtherAdmin');
    await addMember(h, w.owner, w.organizationId, otherAdmin, 'ADMIN');
    const refusals: [string, TestUser, string, Record<string, unknown>][] = [
      ['BAD_USER_INPUT', w.member, 'createPrompt', { organizationId: w.organizationId, name: '', template: 'x' }],
      ['BAD_USER_INPUT', w.member, 'updatePrompt', { promptId: w.promptId, name: 'Valid', model: 'not valid!' }],
      ['BAD_USER_INPUT', w.member, 'createFlow', { organizationId: w.organizationId, name: 'No steps', steps: [] }],
      ['BAD_USER_INPUT', w.member, 'updateFlow', { flowId: w.flowId, name: 'Valid', steps: [] }],
      ['BAD_USER_INPUT', w.admin, 'addMember', { organizationId: w.organizationId, email: 'nope', role: 'MEMBER' }],
      ['NOT_FOUND', w.admin, 'addMember', { organizationId: w.organizationId, email: 'ghost@example.com', role: 'MEMBER' }],
      ['CONFLICT', w.admin, 'addMember', { organizationId: w.organizationId, email: w.member.email, role: 'MEMBER' }],
      ['FORBIDDEN', w.admin, 'addMember', { organizationId: w.organizationId, email: stranger.email, role: 'ADMIN' }],
      ['FORBIDDEN', w.member, 'addMember', { organizationId: w.organizationId, email: stranger.email, role: 'MEMBER' }],
      ['FORBIDDEN', w.admin, 'updateMemberRole', { organizationId: w.organizationId, userId: otherAdmin.id, role: 'MEMBER' }],
      ['CONFLICT', w.owner, 'updateMemberRole', { organizationId: w.organizationId, userId: w.owner.id, role: 'ADMIN' }],
      ['FORBIDDEN', w.member, 'removeMember', { organizationId: w.organizationId, userId: w.admin.id }],
      ['CONFLICT', w.owner, 'removeMember', { organizationId: w.organizationId, userId: w.owner.id }],
      ['FORBIDDEN', w.member, 'deletePrompt', { promptId: w.promptId }],
      ['CONFLICT', w.admin, 'deletePrompt', { promptId: w.promptId }],
      ['FORBIDDEN', w.member, 'deleteFlow', { flowId: w.flowId }],
      ['NOT_FOUND', w.outsider, 'updatePrompt', { promptId: w.promptId, name: 'Hijacked' }],
      ['NOT_FOUND', w.outsider, 'deleteFlow', { flowId: w.flowId }],
    ];
    const before = await auditRows(w.organizationId);
    const everywhere = await countRows(h, 'audit_events');
    for (const [code, actor, mutation, input] of refusals) {
      const result = await mutate(actor, mutation, input);
      expect(codeOf(result), `${mutation} ${JSON.stringify(input)}`).toBe(code);
      expect(await auditRows(w.organizationId), `${mutation} ${JSON.stringify(input)}`).toBe(before);
    }
    expect(await countRows(h, 'audit_events')).toBe(everywhere);
    // And the refused edits left the data as it was.
    const prompt = dataOf(await h.gql(`query($id: ID!) { prompt(id: $id) { name model } }`, { id: w.promptId }, { token: w.member.token })).prompt;
    expect(prompt).toEqual({ name: 'Summarize', model: 'echo' });
    const flow = dataOf(await h.gql(`query($id: ID!) { flow(id: $id) { name steps { prompt { id } } } }`, { id: w.flowId }, { token: w.member.token })).flow;
    expect(flow).toEqual({ name: 'Pipeline', steps: [{ prompt: { id: w.promptId } }] });
  });

  it('writes no event for createOrganization refused as invalid', async () => {
    const everywhere = await countRows(h, 'audit_events');
    const organizations = await countRows(h, 'organizations');
    expect(codeOf(await h.gql(`mutation { createOrganization(input: { name: "" }) { id } }`, {}, { token: w.owner.token }))).toBe('BAD_USER_INPUT');
    expect(await countRows(h, 'audit_events')).toBe(everywhere);
    expect(await countRows(h, 'organizations')).toBe(organizations);
  });

  it('leaves nothing behind when createFlow fails on a bad step: no flow, no step, no audit row', async () => {
    const counts = async () => ({
      flows: await countRows(h, 'flows'),
      steps: await countRows(h, 'flow_steps'),
      audit: await countRows(h, 'audit_events'),
    });
    const before = await counts();
    // The first step is good, the second belongs to another organization.
    const result = await mutate(w.member, 'createFlow', {
      organizationId: w.organizationId,
      name: 'Half good',
      steps: [{ promptId: w.promptId }, { promptId: w.otherPromptId }],
    });
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect(await counts()).toEqual(before);
    expect(await countRows(h, 'flows', { name: 'Half good' })).toBe(0);
  });

  it('leaves the old steps and no audit row when updateFlow fails on a bad step', async () => {
    const second = await createPrompt(h, w.member, w.organizationId, { name: 'Second' });
    const before = { steps: await countRows(h, 'flow_steps', { flow_id: w.flowId }), audit: await auditRows(w.organizationId) };
    const result = await mutate(w.member, 'updateFlow', {
      flowId: w.flowId,
      name: 'Half renamed',
      steps: [{ promptId: second }, { promptId: missingId('prm') }],
    });
    expect(codeOf(result)).toBe('NOT_FOUND');
    expect({ steps: await countRows(h, 'flow_steps', { flow_id: w.flowId }), audit: await auditRows(w.organizationId) }).toEqual(before);
    expect(await countRows(h, 'flow_steps', { flow_id: w.flowId, prompt_id: w.promptId })).toBe(1);
    expect(await countRows(h, 'flows', { id: w.flowId, name: 'Pipeline' })).toBe(1);
  });
});
