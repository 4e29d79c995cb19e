import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, dataOf, startHarness, type Harness } from '../harness.ts';
import { buildWorld, changedBehindTheApp, createApiKey, createFlow, createPrompt, type World } from '../fixtures.ts';

let h: Harness;
let w: World;
beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
});
afterAll(() => h.close());

const KEY_FIELDS = 'id name prefix access status expiresAt revokedAt lastUsedAt prompts { id } flows { id } createdBy { id }';

async function readKey(id: string, token = w.owner.token) {
  return dataOf(await h.gql(`query($id: ID!) { apiKey(id: $id) { ${KEY_FIELDS} } }`, { id }, { token })).apiKey;
}

async function viewerKey(secret: string) {
  return h.gql('{ viewer { user { id } apiKey { id name status } } }', {}, { token: secret });
}

describe('createApiKey', () => {
  it('issues an organization-wide key by default and shows the whole secret once', async () => {
    const result = dataOf(
      await h.gql(
        `mutation($org: ID!) { createApiKey(input: { organizationId: $org, name: "Zapier" }) { secret apiKey { ${KEY_FIELDS} } } }`,
        { org: w.organizationId },
        { token: w.admin.token },
      ),
    ).createApiKey;
    expect(result.secret).toMatch(/^pgk_[0-9A-Za-z]{38}$/);
    expect(result.apiKey).toMatchObject({ name: 'Zapier', access: 'ORGANIZATION', status: 'ACTIVE', prompts: [], flows: [], createdBy: { id: w.admin.id } });
    expect(result.secret.startsWith(result.apiKey.prefix)).toBe(true);
    expect(result.apiKey.prefix.length).toBeLessThan(result.secret.length / 2);

    const viewer = dataOf(await viewerKey(result.secret)).viewer;
    expect(viewer).toEqual({ user: null, apiKey: { id: result.apiKey.id, name: 'Zapier', status: 'ACTIVE' } });
  });

  it('grants SPECIFIC keys prompts and flows of the same organization only', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [w.promptId], flowIds: [w.flowId] });
    const read = await readKey(key.id);
    expect(read.access).toBe('SPECIFIC');
    expect(read.prompts).toEqual([{ id: w.promptId }]);
    expect(read.flows).toEqual([{ id: w.flowId }]);

    const foreign = await h.gql(
      `mutation($org: ID!, $p: ID!) { createApiKey(input: { organizationId: $org, name: "x", access: SPECIFIC, promptIds: [$p] }) { secret } }`,
      { org: w.organizationId, p: w.otherPromptId },
      { token: w.owner.token },
    );
    expect(codeOf(foreign)).toBe('NOT_FOUND');
  });

  it('refuses grants with ORGANIZATION access and an expiresAt in the past as BAD_USER_INPUT', async () => {
    const grants = await h.gql(
      `mutation($org: ID!, $p: ID!) { createApiKey(input: { organizationId: $org, name: "x", access: ORGANIZATION, promptIds: [$p] }) { secret } }`,
      { org: w.organizationId, p: w.promptId },
      { token: w.owner.token },
    );
    expect(codeOf(grants)).toBe('BAD_USER_INPUT');
    const past = await h.gql(
      `mutation($org: ID!) { createApiKey(input: { organizationId: $org, name: "x", expiresAt: "2020-01-01T00:00:00Z" }) { secret } }`,
      { org: w.organizationId },
      { token: w.owner.token },
    );
    expect(codeOf(past)).toBe('BAD_USER_INPUT');
    expect(past.errors![0]!.message).toContain('expiresAt');
  });

  it('is for admins and owners: a member is FORBIDDEN, an outsider NOT_FOUND', async () => {
    const query = `mutation($org: ID!) { createApiKey(input: { organizationId: $org, name: "x" }) { secret } }`;
    expect(codeOf(await h.gql(query, { org: w.organizationId }, { token: w.member.token }))).toBe('FORBIDDEN');
    expect(codeOf(await h.gql(query, { org: w.organizationId }, { token: w.outsider.token }))).toBe('NOT_FOUND');
  });
});

describe('key lifecycle', () => {
  it('revokes a key at once: the next request with it is UNAUTHENTICATED', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    expect(codeOf(await viewerKey(key.secret))).toBeUndefined();
    const revoked = dataOf(
      await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { status revokedAt } }', { id: key.id }, { token: w.admin.token }),
    ).revokeApiKey;
    expect(revoked.status).toBe('REVOKED');
    expect(revoked.revokedAt).not.toBeNull();
    const after = await viewerKey(key.secret);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
    expect(after.status).toBe(401);
  });

  it('rotates a key: same id and grants, a new secret, the old one kept for the grace period only', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [w.promptId] });
    const rotated = dataOf(
      await h.gql(
        `mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id, gracePeriodSeconds: 3600 }) { secret apiKey { id prefix prompts { id } } } }`,
        { id: key.id },
        { token: w.owner.token },
      ),
    ).rotateApiKey;
    expect(rotated.apiKey.id).toBe(key.id);
    expect(rotated.apiKey.prompts).toEqual([{ id: w.promptId }]);
    expect(rotated.secret).not.toBe(key.secret);
    expect(rotated.secret.startsWith(rotated.apiKey.prefix)).toBe(true);
    expect(dataOf(await viewerKey(rotated.secret)).viewer.apiKey.id).toBe(key.id);
    expect(dataOf(await viewerKey(key.secret)).viewer.apiKey.id).toBe(key.id);

    // Rotating again without grace ends every earlier secret at once.
    const again = dataOf(
      await h.gql(`mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id }) { secret } }`, { id: key.id }, { token: w.owner.token }),
    ).rotateApiKey;
    expect(codeOf(await viewerKey(key.secret))).toBe('UNAUTHENTICATED');
    expect(codeOf(await viewerKey(rotated.secret))).toBe('UNAUTHENTICATED');
    expect(dataOf(await viewerKey(again.secret)).viewer.apiKey.id).toBe(key.id);
  });

  it('stops the old secret when the grace period is over', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    dataOf(await h.gql(`mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id, gracePeriodSeconds: 60 }) { secret } }`, { id: key.id }, { token: w.owner.token }));
    expect(codeOf(await viewerKey(key.secret))).toBeUndefined();
    const em = h.orm.em.fork();
    const past = h.dialect === 'sqlite' ? Date.now() - 1000 : new Date(Date.now() - 1000);
    await em.getConnection().execute('update api_key_secrets set expires_at = ? where api_key_id = ? and expires_at is not null', [past, key.id]);
    await changedBehindTheApp(h, key.id);
    expect(codeOf(await viewerKey(key.secret))).toBe('UNAUTHENTICATED');
  });

  it('refuses a rotation or permission change of a revoked key as CONFLICT', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }, { token: w.owner.token }));
    const rotate = await h.gql('mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id }) { secret } }', { id: key.id }, { token: w.owner.token });
    expect(codeOf(rotate)).toBe('CONFLICT');
    const update = await h.gql(
      'mutation($id: ID!) { updateApiKeyPermissions(input: { apiKeyId: $id, access: ORGANIZATION }) { id } }',
      { id: key.id },
      { token: w.owner.token },
    );
    expect(codeOf(update)).toBe('CONFLICT');
  });

  it('shows EXPIRED past expiresAt and refuses the key', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
    expect(codeOf(await viewerKey(key.secret))).toBeUndefined();
    const em = h.orm.em.fork();
    await em.getConnection().execute('update api_keys set expires_at = ? where id = ?', [h.dialect === 'sqlite' ? Date.now() - 1000 : new Date(Date.now() - 1000), key.id]);
    await changedBehindTheApp(h, key.id);
    expect((await readKey(key.id)).status).toBe('EXPIRED');
    expect(codeOf(await viewerKey(key.secret))).toBe('UNAUTHENTICATED');
  });

  it('renames a key and changes its expiry', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const updated = dataOf(
      await h.gql(
        'mutation($id: ID!, $at: DateTime) { updateApiKey(input: { apiKeyId: $id, name: "Renamed", expiresAt: $at }) { name expiresAt } }',
        { id: key.id, at: expiresAt },
        { token: w.admin.token },
      ),
    ).updateApiKey;
    expect(updated).toEqual({ name: 'Renamed', expiresAt });
  });

  it('keeps lastUsedAt to the minute without writing on every request', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    expect((await readKey(key.id)).lastUsedAt).toBeNull();
    await viewerKey(key.secret);
    const first = (await readKey(key.id)).lastUsedAt;
    expect(first).not.toBeNull();
    await viewerKey(key.secret);
    expect((await readKey(key.id)).lastUsedAt).toBe(first);
  });
});

describe('concurrent changes of one key', () => {
  it('rotates one at a time: afterwards exactly one current secret works, the one last issued', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId);
    const rotations = await Promise.all(
      Array.from({ length: 6 }, () =>
        h.gql('mutation($id: ID!) { rotateApiKey(input: { apiKeyId: $id }) { secret apiKey { prefix } } }', { id: key.id }, { token: w.owner.token }),
      ),
    );
    for (const rotation of rotations) expect(codeOf(rotation)).toBeUndefined();
    const [row] = await h.orm.em.fork().getConnection().execute('select count(*) as n from api_key_secrets where api_key_id = ? and expires_at is null', [key.id]);
    expect(Number(row.n)).toBe(1);
    const working = [];
    for (const rotation of rotations) if (!codeOf(await viewerKey(rotation.data!.rotateApiKey.secret))) working.push(rotation);
    expect(working).toHaveLength(1);
    expect((await readKey(key.id)).prefix).toBe(working[0]!.data!.rotateApiKey.apiKey.prefix);
  });

  it('replaces permissions one at a time, never answering an internal error', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [w.promptId] });
    const updates = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        h.gql(
          'mutation($id: ID!, $p: [ID!], $f: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p, flowIds: $f }) { id } }',
          { id: key.id, p: i % 2 ? [w.promptId] : [], f: i % 2 ? [] : [w.flowId] },
          { token: w.owner.token },
        ),
      ),
    );
    for (const update of updates) expect(codeOf(update)).toBeUndefined();
    const read = await readKey(key.id);
    expect(read.prompts.length + read.flows.length).toBe(1);
  });
});

describe('updateApiKeyPermissions and the access rule', () => {
  it('replaces access and grants as a whole, effective on the very next request', async () => {
    const other = await createPrompt(h, w.owner, w.organizationId, { name: 'Other' });
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [w.promptId] });
    const read = (id: string) => h.gql('query($id: ID!) { prompt(id: $id) { id } }', { id }, { token: key.secret });
    expect(codeOf(await read(w.promptId))).toBeUndefined();
    const refused = await read(other);
    expect(codeOf(refused)).toBe('FORBIDDEN');
    expect(refused.errors![0]!.extensions).toMatchObject({ reason: 'NOT_GRANTED', apiKeyId: key.id, promptId: other });

    const updated = dataOf(
      await h.gql(
        'mutation($id: ID!, $p: [ID!]) { updateApiKeyPermissions(input: { apiKeyId: $id, access: SPECIFIC, promptIds: $p }) { access prompts { id } } }',
        { id: key.id, p: [other] },
        { token: w.admin.token },
      ),
    ).updateApiKeyPermissions;
    expect(updated).toEqual({ access: 'SPECIFIC', prompts: [{ id: other }] });
    expect(codeOf(await read(other))).toBeUndefined();
    expect(codeOf(await read(w.promptId))).toBe('FORBIDDEN');

    dataOf(await h.gql('mutation($id: ID!) { updateApiKeyPermissions(input: { apiKeyId: $id, access: ORGANIZATION }) { id } }', { id: key.id }, { token: w.admin.token }));
    expect(codeOf(await read(w.promptId))).toBeUndefined();
    expect(codeOf(await read(w.otherPromptId))).toBe('NOT_FOUND');
  });

  it('lets a flow grant cover the prompts the flow runs, but not a prompt grant its flows', async () => {
    const step = await createPrompt(h, w.owner, w.organizationId, { name: 'Step' });
    const flow = await createFlow(h, w.owner, w.organizationId, [step], 'Flow with step');
    const flowKey = await createApiKey(h, w.owner, w.organizationId, { flowIds: [flow] });
    const promptKey = await createApiKey(h, w.owner, w.organizationId, { promptIds: [step] });
    const check = async (key: string, target: Record<string, string>) =>
      dataOf(await h.gql('query($p: ID, $f: ID) { checkAccess(promptId: $p, flowId: $f) { allowed reason } }', { p: target.promptId, f: target.flowId }, { token: key })).checkAccess;
    expect(await check(flowKey.secret, { flowId: flow })).toEqual({ allowed: true, reason: 'GRANTED' });
    expect(await check(flowKey.secret, { promptId: step })).toEqual({ allowed: true, reason: 'GRANTED' });
    expect(await check(promptKey.secret, { promptId: step })).toEqual({ allowed: true, reason: 'GRANTED' });
    expect(await check(promptKey.secret, { flowId: flow })).toEqual({ allowed: false, reason: 'NOT_GRANTED' });
  });

  it('answers checkAccess for members about any key of the organization, with revoked and expired reasons', async () => {
    const key = await createApiKey(h, w.owner, w.organizationId, { promptIds: [w.promptId] });
    const ask = (token: string, apiKeyId: string | undefined, promptId: string) =>
      h.gql('query($k: ID, $p: ID) { checkAccess(apiKeyId: $k, promptId: $p) { allowed reason apiKey { id } } }', { k: apiKeyId, p: promptId }, { token });
    expect(dataOf(await ask(w.member.token, key.id, w.promptId)).checkAccess).toEqual({ allowed: true, reason: 'GRANTED', apiKey: { id: key.id } });
    expect(codeOf(await ask(w.outsider.token, key.id, w.promptId))).toBe('NOT_FOUND');
    expect(codeOf(await ask(w.member.token, key.id, w.otherPromptId))).toBe('NOT_FOUND');
    expect(codeOf(await ask(w.member.token, undefined, w.promptId))).toBe('BAD_USER_INPUT');
    const orgWide = await createApiKey(h, w.owner, w.organizationId);
    expect(codeOf(await ask(key.secret, orgWide.id, w.promptId))).toBe('FORBIDDEN');
    dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: key.id }, { token: w.owner.token }));
    expect(dataOf(await ask(w.member.token, key.id, w.promptId)).checkAccess.reason).toBe('KEY_REVOKED');
  });
});

describe('availableApiKeys', () => {
  it('lists exactly the active keys that may run the prompt, ordered by name, on every way in', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Integrate me' });
    const flow = await createFlow(h, w.owner, w.organizationId, [prompt], 'Integrate flow');
    const before = dataOf(
      await h.gql('query($p: ID!) { availableApiKeys(promptId: $p, first: 100) { totalCount nodes { id } } }', { p: prompt }, { token: w.member.token }),
    ).availableApiKeys;
    const granted = await createApiKey(h, w.owner, w.organizationId, { name: 'b granted', promptIds: [prompt] });
    const viaFlow = await createApiKey(h, w.owner, w.organizationId, { name: 'a via flow', flowIds: [flow] });
    const notGranted = await createApiKey(h, w.owner, w.organizationId, { name: 'c not granted', promptIds: [w.promptId] });
    const revoked = await createApiKey(h, w.owner, w.organizationId, { name: 'd revoked', promptIds: [prompt] });
    dataOf(await h.gql('mutation($id: ID!) { revokeApiKey(input: { apiKeyId: $id }) { id } }', { id: revoked.id }, { token: w.owner.token }));

    const root = dataOf(
      await h.gql('query($p: ID!) { availableApiKeys(promptId: $p, first: 100) { totalCount nodes { id name } } }', { p: prompt }, { token: w.member.token }),
    ).availableApiKeys;
    const ids = root.nodes.map((k: { id: string }) => k.id);
    expect(root.totalCount).toBe(before.totalCount + 2);
    expect(ids).toContain(granted.id);
    expect(ids).toContain(viaFlow.id);
    expect(ids).not.toContain(notGranted.id);
    expect(ids).not.toContain(revoked.id);
    const names = root.nodes.map((k: { name: string }) => k.name);
    expect(names).toEqual([...names].sort());

    const field = dataOf(
      await h.gql('query($p: ID!) { prompt(id: $p) { availableApiKeys(first: 100) { nodes { id } } } }', { p: prompt }, { token: w.member.token }),
    ).prompt.availableApiKeys.nodes.map((k: { id: string }) => k.id);
    expect(field).toEqual(ids);

    const flowKeys = dataOf(
      await h.gql('query($f: ID!) { availableApiKeys(flowId: $f, first: 100) { nodes { id } } }', { f: flow }, { token: w.member.token }),
    ).availableApiKeys.nodes.map((k: { id: string }) => k.id);
    expect(flowKeys).toContain(viaFlow.id);
    expect(flowKeys).not.toContain(granted.id);
  });

  it('pages by name with cursors and refuses keys, outsiders and a missing or double id', async () => {
    const prompt = await createPrompt(h, w.owner, w.organizationId, { name: 'Paged' });
    for (let i = 0; i < 5; i++) await createApiKey(h, w.owner, w.organizationId, { name: `page ${i}`, promptIds: [prompt] });
    const page = (after?: string) =>
      h.gql('query($p: ID!, $a: String) { availableApiKeys(promptId: $p, first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id name } } }', { p: prompt, a: after }, { token: w.owner.token });
    const first = dataOf(await page()).availableApiKeys;
    const second = dataOf(await page(first.pageInfo.endCursor)).availableApiKeys;
    expect(first.pageInfo.hasNextPage).toBe(true);
    expect(second.totalCount).toBe(first.totalCount);
    const seen = [...first.nodes, ...second.nodes].map((k: { id: string }) => k.id);
    expect(new Set(seen).size).toBe(4);
    expect(second.nodes[0].name >= first.nodes[1].name).toBe(true);

    const key = await createApiKey(h, w.owner, w.organizationId);
    expect(codeOf(await h.gql('query($p: ID!) { availableApiKeys(promptId: $p) { totalCount } }', { p: prompt }, { token: key.secret }))).toBe('FORBIDDEN');
    expect(codeOf(await h.gql('query($p: ID!) { availableApiKeys(promptId: $p) { totalCount } }', { p: prompt }, { token: w.outsider.token }))).toBe('NOT_FOUND');
    expect(codeOf(await h.gql('{ availableApiKeys { totalCount } }', {}, { token: w.owner.token }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await h.gql('query($p: ID!, $f: ID!) { availableApiKeys(promptId: $p, flowId: $f) { totalCount } }', { p: prompt, f: w.flowId }, { token: w.owner.token }))).toBe('BAD_USER_INPUT');
  });
});
