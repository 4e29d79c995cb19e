import { z } from 'zod';
import { ERROR_CODES, FORBIDDEN_REASONS, RATE_LIMITED_REASONS } from '../errors.ts';

/**
 * The bodies of the Promptitude-compatible endpoints, as the handlers validate them and as
 * /v1/openapi.json describes them (openapi.ts builds the document from these same schemas, so the
 * two cannot drift apart). Field names are Promptitude's: a team moves by changing its base URL.
 */

const inputs = z
  .record(z.string(), z.unknown())
  .optional()
  .meta({ description: "Values of the template's variables, e.g. { \"text\": \"…\" }; extra ones are ignored, non-strings are JSON-encoded." });

const endUser = z.string().optional();

export const GenerateBody = z
  .object({
    prompt: z.object({
      promptId: z.string().min(1).meta({ description: 'The id of the prompt (prm_…).' }),
      inputs,
    }),
    endUserId: endUser.meta({ description: 'Your own id for the person this run serves, kept with the run.' }),
  })
  .meta({ description: 'POST /v1/generate: runs one prompt.' });

export const FlowGenerateBody = z
  .object({
    flow: z.object({ inputs }).optional(),
    userId: endUser.meta({ description: 'Your own id for the person this run serves (the run records it as endUserId).' }),
  })
  .meta({ description: 'POST /v1/flows/{flowId}/generate: runs a flow, step after step.' });

export const RateBody = z
  .object({
    logId: z.string().min(1).meta({ description: 'The logId a generate call answered (the run id, run_…).' }),
    stars: z.number().int().min(1).max(5).meta({ description: '1 to 5 stars.' }),
  })
  .meta({ description: 'POST /v1/rate: rates a finished run.' });

/** What went wrong, when something did: a contract code, or RUN_FAILED for a recorded run that failed. */
export const EnvelopeError = z
  .object({
    code: z.enum([...ERROR_CODES, 'RUN_FAILED']),
    reason: z
      .enum([...FORBIDDEN_REASONS, ...RATE_LIMITED_REASONS])
      .optional()
      .meta({ description: 'Why a FORBIDDEN (NOT_GRANTED, KEY_REVOKED, IP_NOT_ALLOWED, …) or a RATE_LIMITED (RATE_LIMIT, QUOTA_EXHAUSTED) was given.' }),
    field: z.string().optional().meta({ description: 'The body field a BAD_USER_INPUT is about, e.g. prompt.promptId.' }),
    retryAfterSeconds: z.number().int().optional().meta({ description: 'For RATE_LIMITED: also in the Retry-After header.' }),
    requestId: z.string().optional().meta({ description: 'For INTERNAL_SERVER_ERROR: quote it when reporting the failure.' }),
  })
  .meta({ description: 'null when all went well.' });

const envelope = <T extends z.ZodType>(results: T) =>
  z.object({
    code: z.number().int().meta({ description: 'The HTTP status: 200, or the refusal’s status.' }),
    message: z.string().meta({ description: '"OK", or what went wrong.' }),
    error: EnvelopeError.nullable(),
    results: results.nullable(),
  });

export const RunResults = z.object({
  result: z.string().nullable().meta({ description: "The model's answer (a flow's: its last step's); null when the run failed." }),
  logId: z.string().meta({ description: 'The run id: pass it to /v1/rate, or read the run through GraphQL.' }),
  status: z.enum(['SUCCEEDED', 'FAILED']),
});

export const RateResults = z.object({ logId: z.string(), stars: z.number().int() });

export const RunEnvelope = envelope(RunResults);
export const RateEnvelope = envelope(RateResults);
export const ErrorEnvelope = envelope(z.null());

/** The named schemas of the OpenAPI document (components.schemas), referenced wherever they are used. */
export const restSchemas = z.registry<{ id: string }>();
restSchemas.add(GenerateBody, { id: 'GenerateRequest' });
restSchemas.add(FlowGenerateBody, { id: 'FlowGenerateRequest' });
restSchemas.add(RateBody, { id: 'RateRequest' });
restSchemas.add(EnvelopeError, { id: 'EnvelopeError' });
restSchemas.add(RunEnvelope, { id: 'RunEnvelope' });
restSchemas.add(RateEnvelope, { id: 'RateEnvelope' });
restSchemas.add(ErrorEnvelope, { id: 'ErrorEnvelope' });

export type Envelope = {
  code: number;
  message: string;
  error: z.infer<typeof EnvelopeError> | null;
  results: z.infer<typeof RunResults> | z.infer<typeof RateResults> | null;
};
