import type { EntityManager } from '@mikro-orm/core';
import type { Authz } from '../../authz/authz.ts';
import { actorIds, type Principal } from '../../auth/principal.ts';
import type { RunLimits } from '../../config.ts';
import { AppError, badInput, conflict, notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { Logger } from '../../logger.ts';
import { interruptedRuns, modelLatency, providerLabel, runsFinished } from '../../metrics.ts';
import { ProviderError, type ModelProviders } from '../../providers/index.ts';
import type { Flow } from '../flow/flow.entity.ts';
import { FlowStepSchema } from '../flow/flow.entity.ts';
import { PromptSchema, type Prompt } from '../prompt/prompt.entity.ts';
import { flowVariables, hasInput, renderedBytes, renderTemplate, RenderTooLargeError, templateVariables } from '../prompt/template.ts';
import { pathForRun, type RecordedPath } from '../access/paths.ts';
import { recordQuotaWarning } from '../webhook/quota-warning.ts';
import { addRunTokens, reserveRun, type QuotaReservation, type QuotaThreshold } from './quota.ts';
import { recorderFor, type RunRecorder } from './run-record.ts';
import { RunSchema, RunStepSchema, type Run, type RunStep } from './run.entity.ts';

/** A step over one of the run limits: it ends the run FAILED with this message. */
class StepLimitError extends Error {}

/** What running needs besides the request's EntityManager. */
export interface RunEnvironment {
  em: EntityManager;
  principal: Principal;
  authz: Authz;
  providers: ModelProviders;
  logger: Logger;
  /** How long one model call may take; a run's deadline allows each of its steps this long. */
  modelTimeoutMs: number;
  limits: RunLimits;
  /** The calling key's first grant covering a prompt, which its run records (access/paths.ts pathForRun). */
  firstGrant(promptId: string): Promise<string | null>;
}

const DEADLINE_MARGIN_MS = 10_000;
/** Inputs are stored with the run: a bound keeps one request from filling the database. */
export const MAX_INPUTS_BYTES = 256 * 1024;
const MAX_END_USER_ID_LENGTH = 200;

function checkInputs(inputs: unknown): Record<string, unknown> {
  if (inputs === null || inputs === undefined) return {};
  if (typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw badInput('inputs', 'must be a JSON object of variable names to values, e.g. { "text": "…" }');
  }
  if (Buffer.byteLength(JSON.stringify(inputs)) > MAX_INPUTS_BYTES) {
    throw badInput('inputs', `must be at most ${MAX_INPUTS_BYTES / 1024} KiB as JSON`);
  }
  return inputs as Record<string, unknown>;
}

function checkEndUserId(endUserId: string | null | undefined): string | null {
  if (endUserId == null || endUserId === '') return null;
  if (endUserId.length > MAX_END_USER_ID_LENGTH) throw badInput('endUserId', `must be at most ${MAX_END_USER_ID_LENGTH} characters`);
  return endUserId;
}

/** Every variable the caller must give, checked before anything is recorded (DESIGN.md rule 7). */
function requireVariables(variables: string[], inputs: Record<string, unknown>): void {
  const missing = variables.filter((name) => !hasInput(inputs, name));
  if (missing.length) {
    throw badInput('inputs', `missing variable${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`);
  }
}

/** The variables a step renders with: the inputs, and for a later step the previous result first. */
function stepVariables(prompt: Prompt, index: number, inputs: Record<string, unknown>, previous: string): Record<string, unknown> {
  // No prototype: a variable named __proto__ or constructor is a variable like any other.
  const variables: Record<string, unknown> = Object.assign(Object.create(null), inputs);
  const first = templateVariables(prompt.template)[0];
  if (index > 0 && first !== undefined) variables[first] = previous;
  return variables;
}

/**
 * Refuses, before anything is recorded, a run whose prompts would render larger than the limit
 * from the caller's inputs alone: step 1 exactly, each later step with an empty previous result
 * (its least size). A later step that grows past the limit with a real result ends the run FAILED.
 */
function requireRenderable(prompts: Prompt[], inputs: Record<string, unknown>, limits: RunLimits): void {
  prompts.forEach((prompt, index) => {
    const bytes = renderedBytes(prompt.template, stepVariables(prompt, index, inputs, ''));
    if (bytes > limits.maxRenderedBytes) {
      const step = prompts.length > 1 ? `step ${index + 1} (${prompt.name}): ` : '';
      throw new AppError('BAD_USER_INPUT', `inputs: ${step}${new RenderTooLargeError(bytes, limits.maxRenderedBytes).message}`, {
        field: 'inputs',
        limit: 'RUN_MAX_RENDERED_BYTES',
        maxBytes: limits.maxRenderedBytes,
      });
    }
  });
}

/** A model's answer too large to keep: the step fails saying so, and the answer is not stored. */
function resultTooLarge(text: string, limits: RunLimits): string | undefined {
  // A UTF-16 unit is at most 3 UTF-8 bytes: a text that short needs no count.
  if (text.length * 3 <= limits.maxResultBytes) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes > limits.maxResultBytes
    ? `the model's answer was ${bytes} bytes; at most ${limits.maxResultBytes} are kept (RUN_MAX_RESULT_BYTES)`
    : undefined;
}

/** The run as a record, RUNNING: nothing is written yet (the recorder writes it, run-record.ts). */
function newRun(
  env: RunEnvironment,
  fields: { organizationId: string; kind: 'PROMPT' | 'FLOW'; prompt: string | null; flow: string | null; inputs: Record<string, unknown>; endUserId: string | null; steps: number },
  path: RecordedPath,
): Run {
  const now = new Date();
  const { actorUserId, actorApiKeyId } = actorIds(env.principal);
  return {
    id: newId('Run'),
    organization: fields.organizationId,
    kind: fields.kind,
    status: 'RUNNING',
    prompt: fields.prompt,
    flow: fields.flow,
    apiKey: actorApiKeyId,
    user: actorUserId,
    inputs: fields.inputs,
    result: null,
    error: null,
    endUserId: fields.endUserId,
    startedAt: now,
    finishedAt: null,
    durationMs: null,
    deadlineAt: new Date(now.getTime() + fields.steps * (env.modelTimeoutMs + DEADLINE_MARGIN_MS)),
    promptTokens: 0,
    completionTokens: 0,
    rating: null,
    // Which grant let the key in (access/paths.ts): ApiKey.grants counts each grant's use from it.
    accessVia: path.accessVia,
    grantedBy: path.grantedBy,
  };
}

/**
 * Runs the steps in order (DESIGN.md rule 7): step 1 takes the inputs; each later step receives
 * the previous result as its first variable. A provider failure ends the run FAILED with its
 * error; nothing leaves it RUNNING. What is written when is the recorder's part (run-record.ts):
 * a run of in-process models (echo) in one transaction once it has ended, a run of a model behind
 * the network RUNNING first. No usage counter is written: usage is read from the runs themselves
 * (usage.ts).
 */
async function execute(env: RunEnvironment, run: Run, prompts: Prompt[], inputs: Record<string, unknown>): Promise<Run> {
  const recorder = recorderFor(env.em, prompts.every((prompt) => env.providers.answersInProcess(prompt.model)));
  const steps: RunStep[] = [];
  let previous: string | null = null;
  try {
    for (const [index, prompt] of prompts.entries()) {
      const variables = stepVariables(prompt, index, inputs, previous ?? '');
      const step: RunStep = {
        id: newId('RunStep'),
        run: run.id,
        position: index + 1,
        prompt: prompt.id,
        status: 'RUNNING',
        result: null,
        error: null,
        durationMs: null,
        promptTokens: 0,
        completionTokens: 0,
      };
      steps.push(step);
      await recorder.stepStarting(run, steps);
      const started = Date.now();
      try {
        const rendered = renderTemplate(prompt.template, variables, env.limits.maxRenderedBytes);
        const called = performance.now();
        const completion = await env.providers.complete(prompt.model, rendered, { maxTokens: env.limits.maxCompletionTokens }).catch((error: unknown) => {
          modelLatency.observe({ provider: providerLabel(prompt.model), outcome: 'error' }, (performance.now() - called) / 1000);
          throw error;
        });
        modelLatency.observe({ provider: providerLabel(prompt.model), outcome: 'ok' }, (performance.now() - called) / 1000);
        const tooLarge = resultTooLarge(completion.text, env.limits);
        if (tooLarge) throw new StepLimitError(tooLarge);
        Object.assign(step, {
          status: 'SUCCEEDED',
          result: completion.text,
          durationMs: Date.now() - started,
          promptTokens: completion.promptTokens,
          completionTokens: completion.completionTokens,
        });
        run.promptTokens += completion.promptTokens;
        run.completionTokens += completion.completionTokens;
        previous = completion.text;
      } catch (error) {
        const expected = error instanceof ProviderError || error instanceof RenderTooLargeError || error instanceof StepLimitError;
        const message = expected ? error.message : 'the step failed unexpectedly';
        if (!expected) env.logger.error('run step failed', error);
        Object.assign(step, { status: 'FAILED', error: message, durationMs: Date.now() - started });
        return await finish(recorder, run, steps, prompts, { status: 'FAILED', error: prompts.length > 1 ? `step ${index + 1} (${prompt.name}): ${message}` : message });
      }
    }
    return await finish(recorder, run, steps, prompts, { status: 'SUCCEEDED', result: previous });
  } catch (error) {
    // A failure of our own (the database) still ends the run, so it never stays RUNNING.
    env.logger.error('run failed unexpectedly', error);
    await recorder.failed(run, 'the run failed unexpectedly');
    runsFinished.inc({ status: 'FAILED', provider: providerLabel(prompts[0]!.model) });
    throw error;
  }
}

async function finish(
  recorder: RunRecorder,
  run: Run,
  steps: readonly RunStep[],
  prompts: Prompt[],
  outcome: { status: 'SUCCEEDED' | 'FAILED'; result?: string | null; error?: string },
): Promise<Run> {
  const finishedAt = new Date();
  Object.assign(run, {
    status: outcome.status,
    result: outcome.result ?? null,
    error: outcome.error ?? null,
    finishedAt,
    durationMs: finishedAt.getTime() - run.startedAt.getTime(),
  });
  const recorded = await recorder.finished(run, steps);
  runsFinished.inc({ status: outcome.status, provider: providerLabel(prompts[0]!.model) });
  return recorded;
}

/**
 * Adds a finished run's tokens to its key's month (quota.ts). Bookkeeping: a failure is logged,
 * never turned into a failure of the run it counts.
 */
async function countTokens(env: RunEnvironment, reservation: QuotaReservation | undefined, run: Run): Promise<Run> {
  if (reservation) {
    try {
      const crossed = await addRunTokens(env.em, reservation, run.promptTokens + run.completionTokens);
      if (crossed) await warnQuota(env, reservation, 'MONTHLY_TOKENS', crossed);
    } catch (error) {
      env.logger.warn("could not count the run's tokens", error);
    }
  }
  return run;
}

/** Counts a key's run against its month (quota.ts), and warns the organization's webhooks at 80% and 100%. */
async function reserve(env: RunEnvironment): Promise<QuotaReservation | undefined> {
  const reservation = await reserveRun(env.em, env.principal, new Date());
  if (reservation?.runThreshold) {
    await warnQuota(env, reservation, 'MONTHLY_RUNS', reservation.runThreshold).catch((error: unknown) => env.logger.warn('could not write a quota warning', error));
  }
  return reservation;
}

async function warnQuota(env: RunEnvironment, reservation: QuotaReservation, quota: 'MONTHLY_RUNS' | 'MONTHLY_TOKENS', threshold: QuotaThreshold): Promise<void> {
  const principal = env.principal;
  if (principal.kind !== 'apiKey') return;
  const limit = quota === 'MONTHLY_RUNS' ? principal.limits.monthlyRunQuota : principal.limits.monthlyTokenQuota;
  if (limit == null) return;
  await recordQuotaWarning(env.em, { apiKeyId: reservation.apiKeyId, organizationId: principal.organizationId, quota, threshold, limit, month: reservation.month }, new Date());
}

export async function runPrompt(env: RunEnvironment, prompt: Prompt, input: { inputs?: unknown; endUserId?: string | null }): Promise<Run> {
  const inputs = checkInputs(input.inputs);
  const endUserId = checkEndUserId(input.endUserId);
  requireVariables(templateVariables(prompt.template), inputs);
  requireRenderable([prompt], inputs, env.limits);
  const path = await pathForRun(env.principal, { kind: 'prompt', id: prompt.id, organizationId: prompt.organization }, env.firstGrant);
  // Last, once nothing else can refuse it: a run counted against the key's quotas is a run that starts.
  const reservation = await reserve(env);
  const run = newRun(env, { organizationId: prompt.organization, kind: 'PROMPT', prompt: prompt.id, flow: null, inputs, endUserId, steps: 1 }, path);
  return countTokens(env, reservation, await execute(env, run, [prompt], inputs));
}

export async function runFlow(env: RunEnvironment, flow: Flow, input: { inputs?: unknown; endUserId?: string | null }): Promise<Run> {
  const inputs = checkInputs(input.inputs);
  const endUserId = checkEndUserId(input.endUserId);
  const steps = await env.em.find(FlowStepSchema, { flow: flow.id }, { orderBy: { position: 'asc' } });
  const found = await env.em.find(PromptSchema, { id: { $in: steps.map((s) => s.prompt) } });
  const prompts = steps.map((step) => {
    const prompt = found.find((p) => p.id === step.prompt);
    // Deleting a prompt a flow uses is refused; only a race with that refusal gets here.
    if (!prompt) throw conflict(`Step ${step.position} of flow ${flow.id} runs a prompt that was deleted; update the flow's steps`);
    return prompt;
  });
  // Every way in passes the access rule: a key runs each step only if the rule lets it run that prompt.
  for (const prompt of prompts) {
    await env.authz.require({ action: 'prompt:run', target: { organizationId: prompt.organization, promptId: prompt.id } });
  }
  requireVariables(flowVariables(prompts.map((p) => p.template)), inputs);
  requireRenderable(prompts, inputs, env.limits);
  const path = await pathForRun(env.principal, { kind: 'flow', id: flow.id, organizationId: flow.organization }, env.firstGrant);
  const reservation = await reserve(env);
  const run = newRun(env, { organizationId: flow.organization, kind: 'FLOW', prompt: null, flow: flow.id, inputs, endUserId, steps: prompts.length }, path);
  return countTokens(env, reservation, await execute(env, run, prompts, inputs));
}

export async function rateRun(em: EntityManager, runId: string, stars: number): Promise<Run> {
  if (!Number.isInteger(stars) || stars < 1 || stars > 5) throw badInput('stars', 'must be a whole number from 1 to 5');
  const run = await em.findOne(RunSchema, { id: runId });
  if (!run) throw notFound('Run', runId);
  if (run.status === 'RUNNING') throw conflict(`Run ${runId} is still running; rate it once it has finished`);
  run.rating = stars;
  await em.flush();
  return run;
}

/**
 * Ends every run still RUNNING past its deadline: cut off by a crash or a restart. Runs on start
 * and then every minute, on every replica; the deadline keeps it from touching a run another
 * replica is still executing.
 */
export async function failInterruptedRuns(em: EntityManager, now: Date): Promise<number> {
  const interrupted = await em.find(RunSchema, { status: 'RUNNING', deadlineAt: { $lt: now } }, { fields: ['id'] });
  if (!interrupted.length) return 0;
  const ids = interrupted.map((run) => run.id);
  const error = 'interrupted: the server stopped before the run finished';
  await em.nativeUpdate(RunStepSchema, { run: { $in: ids }, status: 'RUNNING' }, { status: 'FAILED', error });
  await em.nativeUpdate(RunSchema, { id: { $in: ids }, status: 'RUNNING' }, { status: 'FAILED', error, finishedAt: now });
  interruptedRuns.inc(ids.length);
  return ids.length;
}
