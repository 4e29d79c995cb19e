import type { Context } from '../context.ts';
import { FlowRef } from '../modules/flow/flow.schema.ts';
import { PromptRef } from '../modules/prompt/prompt.schema.ts';
import type { Run } from '../modules/run/run.entity.ts';
import { environment } from '../modules/run/run.schema.ts';
import { rateRun, runFlow, runPrompt } from '../modules/run/run.service.ts';
import { envelopeResponse, ok } from './envelope.ts';
import type { FlowGenerateBody, GenerateBody, RateBody } from './schemas.ts';
import type { z } from 'zod';

/**
 * The three run endpoints: each asks the same authorization (the access rule, through ctx.authz) and
 * calls the same run service as the GraphQL mutation it mirrors (runPrompt, runFlow, rateRun in
 * modules/run/run.schema.ts), on a context built by the same code. Nothing is decided here.
 */

/** A finished run as Promptitude answers it; a failed one is still a 200, with the run's error. */
function answer(run: Run): Response {
  if (run.status === 'SUCCEEDED') return ok({ result: run.result ?? null, logId: run.id, status: 'SUCCEEDED' });
  return envelopeResponse({
    code: 200,
    message: run.error ?? 'the run failed',
    error: { code: 'RUN_FAILED' },
    results: { result: null, logId: run.id, status: 'FAILED' },
  });
}

/** POST /v1/generate — GraphQL's runPrompt. */
export async function generate(ctx: Context, body: z.infer<typeof GenerateBody>): Promise<Response> {
  const { promptId, inputs } = body.prompt;
  await ctx.authz.require({ action: 'prompt:run', target: { promptId } });
  const prompt = (await PromptRef.getDataloader(ctx).load(promptId))!;
  return answer(await runPrompt(environment(ctx), prompt, { inputs, endUserId: body.endUserId }));
}

/** POST /v1/flows/{flowId}/generate — GraphQL's runFlow; Promptitude's userId is the run's endUserId. */
export async function generateFlow(ctx: Context, body: z.infer<typeof FlowGenerateBody>, flowId: string): Promise<Response> {
  await ctx.authz.require({ action: 'flow:run', target: { flowId } });
  const flow = (await FlowRef.getDataloader(ctx).load(flowId))!;
  return answer(await runFlow(environment(ctx), flow, { inputs: body.flow?.inputs, endUserId: body.userId }));
}

/** POST /v1/rate — GraphQL's rateRun; logId is the run id. */
export async function rate(ctx: Context, body: z.infer<typeof RateBody>): Promise<Response> {
  await ctx.authz.require({ action: 'run:rate', target: { runId: body.logId } });
  const run = await rateRun(ctx.em, body.logId, body.stars);
  return ok({ logId: run.id, stars: run.rating ?? body.stars });
}
