import { z } from 'zod';
import { ERROR_CODES } from '../errors.ts';
import { pathParameters, REST_ROUTES, type RestRoute } from './routes.ts';
import { restSchemas } from './schemas.ts';

/**
 * GET /v1/openapi.json: an OpenAPI 3.1 document of the /v1 endpoints. Its schemas are generated
 * from the zod schemas the handlers validate with (schemas.ts) — OpenAPI 3.1's schema objects are
 * JSON Schema 2020-12 — so the document cannot say anything the code does not do.
 */

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(restSchemas, { target: 'draft-2020-12', io: 'input', uri: (id) => `#/components/schemas/${id}` });
  // Each is a component of this document, not a document of its own: no $schema or $id.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });

/** The refusals every run endpoint can answer, each in the same envelope. */
const refusals = {
  '400': json(ref('ErrorEnvelope'), 'BAD_USER_INPUT: the body is not JSON, or a field is missing or wrong (error.field names it).'),
  '401': json(ref('ErrorEnvelope'), 'UNAUTHENTICATED: no API key, or one that is unknown, revoked or expired.'),
  '403': json(ref('ErrorEnvelope'), 'FORBIDDEN: the key may not do this; error.reason says why (NOT_GRANTED, IP_NOT_ALLOWED, …).'),
  '404': json(ref('ErrorEnvelope'), "NOT_FOUND: no such id, or one of another organization's."),
  '405': json(ref('ErrorEnvelope'), 'BAD_USER_INPUT: another method than POST.'),
  '409': json(ref('ErrorEnvelope'), 'CONFLICT: e.g. rating a run still running, or a flow whose step was deleted.'),
  '413': json(ref('ErrorEnvelope'), 'BAD_USER_INPUT: the body is larger than 1 MiB.'),
  '415': json(ref('ErrorEnvelope'), 'BAD_USER_INPUT: the body is not sent as application/json.'),
  '429': {
    ...json(ref('ErrorEnvelope'), "RATE_LIMITED: over the key's rate limit (error.reason RATE_LIMIT) or its monthly quota (QUOTA_EXHAUSTED); retry after the seconds Retry-After gives."),
    headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } },
  },
  '500': json(ref('ErrorEnvelope'), 'INTERNAL_SERVER_ERROR: unexpected; error.requestId identifies the request.'),
};

function operation(route: RestRoute) {
  const parameters = pathParameters(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  return {
    post: {
      operationId: route.operation,
      summary: route.summary,
      security: [{ bearer: [] }],
      ...(parameters.length ? { parameters } : {}),
      requestBody: { required: true, content: { 'application/json': { schema: ref(route.bodySchema) } } },
      responses: {
        '200': json(ref(route.answerSchema), 'Done. A run whose model call failed is also 200: error.code RUN_FAILED, message the run’s error.'),
        ...refusals,
      },
    },
  };
}

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'PromptGate REST (Promptitude-compatible)',
      version: '1',
      description: `Promptitude's /v1 endpoints over PromptGate's run service and access rule. GraphQL at /graphql is the full API. Error codes: ${ERROR_CODES.join(', ')}.`,
    },
    servers: [{ url: '/' }],
    paths: {
      ...Object.fromEntries(REST_ROUTES.map((route) => [route.path, operation(route)])),
      '/v1/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': {} } } },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A PromptGate API key (pgk_…), as for GraphQL.' } },
    },
  };
}
