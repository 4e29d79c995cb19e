/**
 * The Integrate tab reads only the columns of api_keys its fields need (key-columns.ts): every
 * field of ApiKey answers through availableApiKeys exactly what `apiKey(id:)`, which reads the whole
 * row, answers; a field whose columns were not read would fail loudly (db/read-only.ts), never show
 * null for a value the key has.
 */
import { getNamedType, isLeafType, type GraphQLObjectType } from 'graphql';
import { partialReadOnlyEntities } from '../../server/db/read-only.ts';
import { ApiKeySchema } from '../../server/modules/api-key/api-key.entity.ts';
import { keyColumnGroups } from '../../server/modules/api-key/key-columns.ts';
import { schema } from '../../server/schema.ts';
import { dataOf, type Harness } from '../harness.ts';
import { describe, expect, test } from '../kit.ts';
import type { World } from '../fixtures.ts';

const apiKeyType = schema.getType('ApiKey') as GraphQLObjectType;

/** A field as a query selects it: a leaf by name, an object with its leaf fields that need no argument. */
function selectionOf(fieldName: string): string {
  const type = getNamedType(apiKeyType.getFields()[fieldName]!.type);
  if (isLeafType(type)) return fieldName;
  const leaves = Object.values((type as GraphQLObjectType).getFields())
    .filter((field) => isLeafType(getNamedType(field.type)) && field.args.every((arg) => !arg.type.toString().endsWith('!')))
    .map((field) => field.name);
  return `${fieldName} { __typename ${leaves.join(' ')} }`;
}

/** A key with a value in every column: limits, an expiry, a creator, a use. */
async function fullKey(h: Harness, world: World): Promise<{ id: string; secret: string }> {
  const created = dataOf(
    await h.gql(
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }`,
      {
        input: {
          organizationId: world.organizationId,
          name: 'Every column',
          access: 'SPECIFIC',
          promptIds: [world.promptId],
          flowIds: [world.flowId],
          expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
          rateLimitPerMinute: 77,
          monthlyRunQuota: 500,
          monthlyTokenQuota: 90_000,
        },
      },
      { token: world.owner.token },
    ),
  ).createApiKey;
  dataOf(await h.gql('mutation($p: ID!) { runPrompt(input: { promptId: $p, inputs: { text: "x" } }) { id } }', { p: world.promptId }, { token: created.secret }));
  // After its use: a request in this process comes from no address, which a range would refuse.
  const limits = { apiKeyId: created.apiKey.id, rateLimitPerMinute: 77, monthlyRunQuota: 500, monthlyTokenQuota: 90_000, allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] };
  dataOf(await h.gql('mutation($input: UpdateApiKeyLimitsInput!) { updateApiKeyLimits(input: $input) { __typename } }', { input: limits }, { token: world.owner.token }));
  return { id: created.apiKey.id, secret: created.secret };
}

describe('availableApiKeys reads the columns its fields need', () => {
  test('every field of ApiKey answers through the page what apiKey(id:) answers, by prompt, by flow and with a search', async ({ h, world }) => {
    const key = await fullKey(h, world);
    const fields = Object.keys(apiKeyType.getFields());
    expect(fields.length).toBeGreaterThan(20);
    const entries = [
      ['promptId: $r', world.promptId],
      ['flowId: $r', world.flowId],
      ['promptId: $r, search: "every"', world.promptId],
    ] as const;
    for (const field of fields) {
      const selection = selectionOf(field);
      const whole = dataOf(await h.gql(`query($id: ID!) { apiKey(id: $id) { id ${selection} } }`, { id: key.id }, { token: world.owner.token })).apiKey;
      expect(whole[field], field).not.toBeUndefined();
      for (const [args, resource] of entries) {
        const page = await h.gql(`query($r: ID!) { availableApiKeys(${args}, first: 100) { nodes { id ${selection} } } }`, { r: resource }, { token: world.owner.token });
        expect(page.errors, `${field} (${args})`).toBeUndefined();
        const listed = page.data!.availableApiKeys.nodes.find((node: { id: string }) => node.id === key.id);
        expect(listed, `${field} (${args})`).toEqual(whole);
      }
    }
    // All of them at once, through edges and fragments.
    const all = fields.map(selectionOf).join(' ');
    const whole = dataOf(await h.gql(`query($id: ID!) { apiKey(id: $id) { id ${all} } }`, { id: key.id }, { token: world.owner.token })).apiKey;
    const page = dataOf(
      await h.gql(
        `query($r: ID!) { availableApiKeys(promptId: $r, first: 5) { edges { node { id ...Rest } } } }
         fragment Rest on ApiKey { ... on ApiKey { ${all} } }`,
        { r: world.promptId },
        { token: world.owner.token },
      ),
    );
    expect(page.availableApiKeys.edges.find((edge: { node: { id: string } }) => edge.node.id === key.id).node).toEqual(whole);
  });

  test('a key listed in part is not what a later load by id in the same request answers', async ({ h, world }) => {
    const key = await fullKey(h, world);
    const read = dataOf(
      await h.gql(
        'query($p: ID!, $k: ID!) { availableApiKeys(promptId: $p, first: 100) { nodes { id name } } apiKey(id: $k) { allowedCidrs rateLimitPerMinute prefix } }',
        { p: world.promptId, k: key.id },
        { token: world.owner.token },
      ),
    );
    expect(read.availableApiKeys.nodes.map((node: { id: string }) => node.id)).toContain(key.id);
    expect(read.apiKey).toEqual({ allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'], rateLimitPerMinute: 77, prefix: key.secret.slice(0, read.apiKey.prefix.length) });
  });

  test('a field not listed in key-columns.ts takes the whole row', () => {
    expect(keyColumnGroups(new Set(['id', 'name']))).toEqual([]);
    expect(keyColumnGroups(new Set(['status', 'allowedCidrs']))).toEqual(['facts', 'limits']);
    expect(keyColumnGroups(new Set(['id', 'aFieldAddedLater']))).toBeNull();
  });

  test('an object read in part throws on a property it does not carry, naming it; read whole, it is a plain object', async ({ h }) => {
    const row = { id: 'key_1', name: 'Partial', total_count: 3 };
    const [partial] = partialReadOnlyEntities(h.orm.em, ApiKeySchema, [row], ['id', 'name']);
    expect(partial!.name).toBe('Partial');
    expect(Object.keys(partial!)).toEqual(['id', 'name']);
    expect(Object.getPrototypeOf(partial)).not.toBe(Object.prototype);
    expect(() => partial!.allowedCidrs).toThrow(/ApiKey\.allowedCidrs was not read/);
    const every = h.orm.em.getMetadata().get('ApiKey').props.map((prop) => prop.name as string);
    const [whole] = partialReadOnlyEntities(h.orm.em, ApiKeySchema, [{ ...row, prefix: 'pg_x' }], every);
    expect(Object.getPrototypeOf(whole)).toBe(Object.prototype);
    expect(whole!.prefix).toBe('pg_x');
  });
});
