import type { z } from 'zod';
import type { Context } from '../context.ts';
import { generate, generateFlow, rate } from './runs.ts';
import { FlowGenerateBody, GenerateBody, RateBody } from './schemas.ts';

/**
 * The /v1 endpoints, in one table: the router answers them and openapi.ts describes them from it,
 * so an endpoint cannot exist without its entry in the document, nor the other way round.
 */
export interface RestRoute<T extends z.ZodType = z.ZodType> {
  /** As OpenAPI writes it: /v1/flows/{flowId}/generate. */
  path: string;
  operation: string;
  summary: string;
  body: T;
  /** Its id among restSchemas (schemas.ts), for the document's $ref. */
  bodySchema: string;
  answerSchema: string;
  /** The run service's field names as this endpoint's body spells them, so a BAD_USER_INPUT names the field the caller sent. */
  fields: Record<string, string>;
  handle(ctx: Context, body: z.infer<T>, params: Record<string, string>): Promise<Response>;
}

const route = <T extends z.ZodType>(r: RestRoute<T>) => r as unknown as RestRoute;

export const REST_ROUTES: RestRoute[] = [
  route({
    path: '/v1/generate',
    operation: 'generate',
    summary: 'Run a prompt (GraphQL: runPrompt)',
    body: GenerateBody,
    bodySchema: 'GenerateRequest',
    answerSchema: 'RunEnvelope',
    fields: { inputs: 'prompt.inputs' },
    handle: (ctx, body) => generate(ctx, body),
  }),
  route({
    path: '/v1/flows/{flowId}/generate',
    operation: 'flowGenerate',
    summary: 'Run a flow (GraphQL: runFlow)',
    body: FlowGenerateBody,
    bodySchema: 'FlowGenerateRequest',
    answerSchema: 'RunEnvelope',
    fields: { inputs: 'flow.inputs', endUserId: 'userId' },
    handle: (ctx, body, { flowId }) => generateFlow(ctx, body, flowId!),
  }),
  route({
    path: '/v1/rate',
    operation: 'rate',
    summary: 'Rate a run (GraphQL: rateRun)',
    body: RateBody,
    bodySchema: 'RateRequest',
    answerSchema: 'RateEnvelope',
    fields: { runId: 'logId' },
    handle: (ctx, body) => rate(ctx, body),
  }),
];

/** The names of a path's parameters, in order: /v1/flows/{flowId}/generate → [flowId]. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
}

/** A matcher for a route's path: each parameter is one non-empty segment. */
export function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/\{\w+\}/g, '([^/]+)')}$`);
}
