/**
 * Query cost is computed before execution with the request's real variable values and defaults:
 * a `first` sent as a variable, or left out, counts as much as the same `first` written in the
 * document. Over the caller's ceiling the request is BAD_USER_INPUT with the cost and the limit,
 * and nothing of it runs. Every operation the SDK sends fits under a member's ceiling with pages
 * of 100.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AbstractSqlConnection } from '@mikro-orm/knex';
import {
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  print,
  separateOperations,
  typeFromAST,
  type GraphQLInputType,
  type OperationDefinitionNode,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_QUERY_COST_LIMITS, operationCost } from '../../server/graphql/query-cost.ts';
import { schema } from '../../server/schema.ts';
import { buildWorld, createApiKey, createOrganization, createPrompt, signUpUser, type World } from '../fixtures.ts';
import { dataOf, startHarness, type GraphQLResponse, type Harness } from '../harness.ts';

let h: Harness;
let w: World;
let statements = 0;

beforeAll(async () => {
  h = await startHarness();
  w = await buildWorld(h);
  const prompts = [w.promptId];
  for (let i = 0; i < 3; i++) prompts.push(await createPrompt(h, w.owner, w.organizationId, { name: `Costed ${i}`, template: `step {{x}} ${i}` }));
  for (let i = 0; i < 3; i++) await createApiKey(h, w.owner, w.organizationId, { name: `costed key ${i}`, promptIds: prompts });
  // Every statement the ORM sends goes through knex, which reports each one.
  (h.orm.em.getConnection() as unknown as AbstractSqlConnection).getKnex().on('query', () => {
    statements += 1;
  });
});
afterAll(() => h.close());

/** The response and the SQL statements the request sent. */
async function measured(query: string, variables: Record<string, unknown>, token = w.owner.token): Promise<{ response: GraphQLResponse; statements: number }> {
  const before = statements;
  const response = await h.gql(query, variables, { token });
  return { response, statements: statements - before };
}

/** Keys, their granted prompts, the keys that may run each, their prompts, … (the N⁵), 10 levels deep. */
function amplification(firstArg: string, variableDefinition = ''): string {
  return `query Amplify($org: ID!${variableDefinition}) { organization(id: $org) { apiKeys${firstArg} { nodes { prompts {
    availableApiKeys${firstArg} { nodes { prompts { availableApiKeys${firstArg} { nodes { name } } } } } } } } } }`;
}

function expectCostRefusal(response: GraphQLResponse, limit: number): void {
  expect(response.data ?? null).toBeNull();
  expect(response.errors).toHaveLength(1);
  const [error] = response.errors!;
  expect(error!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit });
  expect(error!.extensions!.cost).toBeGreaterThan(limit);
  expect(error!.message).toContain(`costs ${error!.extensions!.cost}`);
  expect(error!.message).toContain(`at most ${limit}`);
}

describe('the amplification queries', () => {
  const cases: [string, string, Record<string, unknown>, string?][] = [
    ['first as a variable', '(first: $n)', { n: 20 }, ', $n: Int'],
    ['first as a variable of 100', '(first: $n)', { n: 100 }, ', $n: Int'],
    ['first as a variable left to its default', '(first: $n)', {}, ', $n: Int'],
    ['first as a variable with a default in the document', '(first: $n)', {}, ', $n: Int = 50'],
    ['first left out (the default page of 20)', '', {}],
  ];

  it.each(cases)('are refused before execution with %s: the cost and the limit, no SQL past authentication', async (_name, firstArg, variables, definition) => {
    // What authenticating the caller costs alone: the refusal may send no more than that.
    const baseline = await measured('{ __typename }', {});
    dataOf(baseline.response);

    const refused = await measured(amplification(firstArg, definition), { org: w.organizationId, ...variables });
    expectCostRefusal(refused.response, DEFAULT_QUERY_COST_LIMITS.user);
    expect(refused.response.status).toBe(400);
    expect(refused.statements).toBeLessThanOrEqual(baseline.statements);
  });

  it('counts a `first` sent as a variable exactly as the same `first` written in the document', () => {
    const byVariable = operationCost(schema, parse(amplification('(first: $n)', ', $n: Int')), { org: 'org_x', n: 7 });
    const literal = operationCost(schema, parse(amplification('(first: 7)')), { org: 'org_x' });
    const defaulted = operationCost(schema, parse(amplification('(first: $n)', ', $n: Int')), { org: 'org_x' });
    const absent = operationCost(schema, parse(amplification('')), { org: 'org_x' });
    const twenty = operationCost(schema, parse(amplification('(first: 20)')), { org: 'org_x' });
    expect(byVariable).toBe(literal);
    expect(defaulted).toBe(twenty);
    expect(absent).toBe(twenty);
  });

  it('costs one document, reused as yoga reuses it, by each request’s own variables', () => {
    // The cost is kept per operation and Int/Boolean values: a reused document must never answer
    // another request's figure.
    const document = parse(amplification('(first: $n)', ', $n: Int = 50'));
    const fresh = (variables: Record<string, unknown>) => operationCost(schema, parse(amplification('(first: $n)', ', $n: Int = 50')), variables);
    const asked: Record<string, unknown>[] = [{ org: 'org_x', n: 1 }, { org: 'org_x', n: 100 }, { org: 'org_x' }, { org: 'org_x', n: null }, { org: 'org_x', n: 1 }];
    for (const variables of asked) expect(operationCost(schema, document, variables)).toBe(fresh(variables));
    expect(operationCost(schema, document, { org: 'org_x', n: 1 })).toBeLessThan(operationCost(schema, document, { org: 'org_x', n: 100 })!);
    // Left out, $n takes its default (50); an explicit null is no `first` at all (the page of 20).
    expect(operationCost(schema, document, { org: 'org_x' })).not.toBe(operationCost(schema, document, { org: 'org_x', n: null }));
  });

  it('still costs a document whose earlier request sent variables that do not coerce', () => {
    const document = parse(amplification('(first: $n)', ', $n: Int'));
    expect(operationCost(schema, document, { org: { not: 'an id' }, n: 100 })).toBeUndefined();
    const cost = operationCost(schema, document, { org: 'org_x', n: 100 });
    expect(cost).toBe(operationCost(schema, parse(amplification('(first: 100)')), { org: 'org_x' }));
    expect(cost).toBeGreaterThan(DEFAULT_QUERY_COST_LIMITS.user);
  });

  it('answers the Integrate tab of a page of prompts, and the keys with their grants', async () => {
    const query = `query($org: ID!, $n: Int) { organization(id: $org) {
      prompts(first: $n) { nodes { name availableApiKeys(first: $n) { totalCount nodes { name status } } } }
      apiKeys(first: $n) { nodes { name prompts { name } flows { name } } } } }`;
    const data = dataOf(await h.gql(query, { org: w.organizationId, n: 20 }, { token: w.owner.token }));
    expect(data.organization.apiKeys.nodes.length).toBeGreaterThanOrEqual(3);
    expect(data.organization.prompts.nodes[0].availableApiKeys.totalCount).toBeGreaterThan(0);
  });

  it('refuses a key’s grants listed under every key of pages of 100 (up to 100,000 objects each page)', async () => {
    const query = `query($org: ID!, $n: Int) { organization(id: $org) { prompts(first: $n) { nodes { availableApiKeys(first: $n) { nodes { prompts { name } } } } } } }`;
    expectCostRefusal((await measured(query, { org: w.organizationId, n: 100 })).response, DEFAULT_QUERY_COST_LIMITS.user);
  });
});

describe('the ceiling is per kind of caller and configurable', () => {
  it('holds anonymous callers, keys and users each to their own ceiling', async () => {
    const query = '{ viewer { user { id } apiKey { id } } }';
    expect(operationCost(schema, parse(query), {})).toBe(3);
    const small = await startHarness({ config: { queryCost: { anonymous: 2, apiKey: 3, user: 2 } } });
    try {
      const owner = await signUpUser(small, 'Ceiling');
      const organizationId = await createOrganization(small, owner, 'Ceilings');
      // Issued with a selection that fits the owner's ceiling of 2.
      const issued = dataOf(
        await small.gql('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }', { input: { organizationId, name: 'ceiling key' } }, { token: owner.token }),
      ).createApiKey;
      const key = { id: issued.apiKey.id, secret: issued.secret };
      expectCostRefusal(await small.gql(query), 2);
      expectCostRefusal(await small.gql(query, {}, { token: owner.token }), 2);
      expect(dataOf(await small.gql(query, {}, { token: key.secret })).viewer.apiKey.id).toBe(key.id);
    } finally {
      await small.close();
    }
  });
});

// ---- every SDK operation, pages of 100 --------------------------------------------------------

const OPERATIONS_DIR = join(import.meta.dirname, '../../sdk/operations');
const sdkDocument = parse(
  readdirSync(OPERATIONS_DIR)
    .filter((file) => file.endsWith('.graphql'))
    .map((file) => readFileSync(join(OPERATIONS_DIR, file), 'utf8'))
    .join('\n'),
);
const sdkOperations = sdkDocument.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);

/** A value of the right shape for a variable's type: ids, strings, every required input field. */
function sampleValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType);
  if (isListType(type)) return [sampleValue(type.ofType)];
  if (isInputObjectType(type)) {
    return Object.fromEntries(
      Object.values(type.getFields())
        .filter((field) => isNonNullType(field.type) && field.defaultValue === undefined)
        .map((field) => [field.name, sampleValue(field.type)]),
    );
  }
  if (isEnumType(type)) return type.getValues()[0]!.value;
  const samples: Record<string, unknown> = { ID: 'prm_00000000000000000000000000', String: 'text', Int: 1, Float: 1, Boolean: true, DateTime: '2026-01-01T00:00:00.000Z', JSON: {} };
  return samples[getNullableType(type).toString()] ?? 'text';
}

describe('every SDK operation', () => {
  it('is found', () => {
    expect(sdkOperations.length).toBeGreaterThan(20);
  });

  it.each(sdkOperations.map((operation) => [operation.name!.value, operation] as const))(
    '%s costs less than the member ceiling with first: 100',
    (name, operation) => {
      const variables: Record<string, unknown> = {};
      for (const definition of operation.variableDefinitions ?? []) {
        const type = typeFromAST(schema, definition.type) as GraphQLInputType;
        variables[definition.variable.name.value] = definition.variable.name.value === 'first' ? 100 : sampleValue(type);
      }
      const cost = operationCost(schema, sdkDocument, variables, name);
      expect(cost, name).toBeDefined();
      expect(cost!, name).toBeLessThanOrEqual(DEFAULT_QUERY_COST_LIMITS.user);
    },
  );

  it('OrganizationApiKeys with first: 100 answers over HTTP', async () => {
    // The operation with the fragments it uses, as the SDK sends it.
    const document = print(separateOperations(sdkDocument).OrganizationApiKeys!);
    const response = await h.app.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${w.owner.token}` },
      body: JSON.stringify({ query: document, operationName: 'OrganizationApiKeys', variables: { organizationId: w.organizationId, first: 100 } }),
    });
    const body = (await response.json()) as GraphQLResponse;
    expect(body.errors).toBeUndefined();
    expect(body.data!.organization.apiKeys.nodes.length).toBeGreaterThanOrEqual(3);
  });
});
