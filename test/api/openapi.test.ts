import { Validator } from '@seriousme/openapi-schema-validator';
import { z } from 'zod';
import { REST_ROUTES } from '../../server/rest/routes.ts';
import { createApiKey } from '../fixtures.ts';
import { expect, test } from '../kit.ts';
import { rest } from '../rest.ts';

/**
 * GET /v1/openapi.json is a valid OpenAPI 3.1 document, built from the route table and the zod
 * schemas the handlers validate with: every endpoint the router answers is in it, and what it
 * marks required, the endpoint refuses without, naming that field.
 */

async function documentOf(h: Parameters<typeof rest>[0]) {
  const response = await h.app.fetch('http://localhost/v1/openapi.json');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/json');
  return (await response.json()) as { openapi: string; paths: Record<string, any>; components: { schemas: Record<string, any> } };
}

test('is a valid OpenAPI 3.1 document, served without a key', async ({ h }) => {
  const document = await documentOf(h);
  expect(document.openapi).toBe('3.1.0');
  const result = await new Validator().validate(document);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
});

test('describes every endpoint the router answers, with the schema its handler validates with', async ({ h }) => {
  const document = await documentOf(h);
  expect(Object.keys(document.paths).sort()).toEqual([...REST_ROUTES.map((r) => r.path), '/v1/openapi.json'].sort());
  for (const route of REST_ROUTES) {
    const operation = document.paths[route.path].post;
    expect(operation.requestBody.content['application/json'].schema.$ref).toBe(`#/components/schemas/${route.bodySchema}`);
    const { $schema: _schema, ...fromCode } = z.toJSONSchema(route.body, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
    expect(document.components.schemas[route.bodySchema]).toEqual(fromCode);
  }
});

test('every field it marks required is refused when missing, naming that field', async ({ h, world }) => {
  const document = await documentOf(h);
  const key = await createApiKey(h, world.owner, world.organizationId);
  const valid: Record<string, Record<string, any>> = {
    '/v1/generate': { prompt: { promptId: world.promptId, inputs: { text: 'x' } } },
    '/v1/flows/{flowId}/generate': { flow: { inputs: { text: 'x' } } },
    '/v1/rate': { logId: 'run_00000000000000000000000000', stars: 3 },
  };
  let checked = 0;
  for (const route of REST_ROUTES) {
    const path = route.path.replace('{flowId}', world.flowId);
    // Required properties at the top and one level down, as the document lists them.
    const schema = document.components.schemas[route.bodySchema];
    const required: string[][] = (schema.required ?? []).flatMap((name: string) => [
      [name],
      ...((schema.properties[name].required ?? []) as string[]).map((inner) => [name, inner]),
    ]);
    for (const fieldPath of required) {
      const body = structuredClone(valid[route.path]!);
      let parent = body;
      for (const part of fieldPath.slice(0, -1)) parent = parent[part];
      delete parent[fieldPath.at(-1)!];
      const answer = await rest(h, path, body, { token: key.secret });
      expect(answer.status, `${route.path} without ${fieldPath.join('.')}`).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'BAD_USER_INPUT', field: fieldPath.join('.') });
      checked += 1;
    }
  }
  // prompt, prompt.promptId, logId, stars
  expect(checked).toBe(4);
});

test('is found by the normalized path, as the URL standard reads it, and /graphql stays GraphQL', async ({ h }) => {
  // The router reads /graphql's raw path without parsing; any other path is normalized first.
  for (const url of ['http://localhost/graphql/../v1/openapi.json', 'http://localhost/v1/openapi.json?x=1#top']) {
    const response = await h.app.fetch(url);
    expect(response.status, url).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi, url).toBe('3.1.0');
  }
  for (const url of ['http://localhost/graphql', 'http://localhost/graphql?query=%7B__typename%7D', 'http://localhost:4000/graphql#x']) {
    const response = await h.app.fetch(url.includes('query=') ? url : `${url.split('#')[0]}?query=%7B__typename%7D`, { headers: { accept: 'application/json' } });
    expect(await response.json(), url).toEqual({ data: { __typename: 'Query' } });
  }
});
