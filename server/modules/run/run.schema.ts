import type { FilterQuery } from '@mikro-orm/core';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { forbidden } from '../../errors.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { listBound } from '../../graphql/query-cost.ts';
import { connectionType, newestFirst, pageArgs, paginate } from '../../graphql/pagination.ts';
import { firstGrantOfCaller } from '../access/key-path.ts';
import { ApiKeyRef } from '../api-key/api-key.schema.ts';
import { flowLoaders } from '../flow/flow.loaders.ts';
import { MAX_FLOW_STEPS } from '../flow/flow.service.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { historicPrompts } from '../prompt/prompt.loaders.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { UserRef } from '../user/user.schema.ts';
import { RUN_KINDS, RUN_STATUSES, RunSchema, type Run, type RunStep } from './run.entity.ts';
import { loadRunSteps, loadRuns, loadUsage, loadUsageByResource } from './run.loaders.ts';
import { rateRun, runFlow, runPrompt, type RunEnvironment } from './run.service.ts';
import type { ResourceUsage, Usage } from './usage.ts';

const RunKindEnum = builder.enumType('RunKind', { values: RUN_KINDS });
const RunStatusEnum = builder.enumType('RunStatus', { values: RUN_STATUSES });

/**
 * What a run names (its prompt or flow, its steps' prompts, the user who ran it) is readable through
 * the run, even after the key's grants changed, the prompt was deleted or the user left: the run's
 * type grants it to the run's own fields (scope-auth's $granted, checked against this path only), and
 * Prompt, Flow and User accept the grant beside their own rule.
 */
const READABLE_THROUGH_A_RUN = ['reachedPrompt', 'reachedFlow', 'reachedUser'];

const RunStepRef = builder.objectRef<RunStep>('RunStep').implement({
  grantScopes: () => ['reachedPrompt'],
  fields: (t) => ({
    position: t.exposeInt('position'),
    prompt: t.field({
      type: PromptRef,
      resolve: async (step, _args, ctx) => (await historicPrompts(ctx).load(step.prompt))!,
    }),
    status: t.field({ type: RunStatusEnum, resolve: (step) => step.status }),
    result: t.exposeString('result', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
  }),
});

/** A node loaded in batches: fields may return a run's id, and node(id) finds it. */
export const RunRef = builder.loadableNodeRef('Run', {
  id: { resolve: (run: Run) => run.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadRuns(ctx.em, ids)),
});

RunRef.implement({
  // Members read every run of their organization; a key reads the runs it made.
  authScopes: (run) => ({ can: { action: 'run:read', target: { runId: run.id } } }),
  grantScopes: () => READABLE_THROUGH_A_RUN,
  fields: (t) => ({
    kind: t.field({ type: RunKindEnum, resolve: (run) => run.kind }),
    status: t.field({ type: RunStatusEnum, resolve: (run) => run.status }),
    prompt: t.field({
      type: PromptRef,
      nullable: true,
      resolve: (run, _args, ctx) => (run.prompt ? historicPrompts(ctx).load(run.prompt) : null),
    }),
    flow: t.field({
      type: FlowRef,
      nullable: true,
      resolve: (run, _args, ctx) => (run.flow ? flowLoaders(ctx).historic.load(run.flow) : null),
    }),
    apiKey: t.field({
      type: ApiKeyRef,
      nullable: true,
      description: 'The key that ran it; null when a signed-in user ran it.',
      resolve: (run) => run.apiKey ?? null,
    }),
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: (run) => run.user ?? null,
    }),
    inputs: t.expose('inputs', { type: 'JSON' }),
    result: t.exposeString('result', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    endUserId: t.exposeString('endUserId', { nullable: true }),
    steps: t.loadableList({
      type: RunStepRef,
      // A run has one step per step of its flow (one for a prompt): the query cost counts that many.
      complexity: listBound(MAX_FLOW_STEPS),
      load: (runIds: string[], ctx: Context) => loadRunSteps(ctx.em, runIds),
      resolve: (run) => run.id,
    }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens the provider counted in the prompts; 0 for echo.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens the provider counted in its answers; 0 for echo.' }),
    rating: t.exposeInt('rating', { nullable: true, description: '1 to 5 stars, once rated.' }),
  }),
});

const RunConnectionRef = connectionType('Run', RunRef);
const RUN_ORDER = newestFirst('Run', 'startedAt');

builder.objectField(OrganizationRef, 'runs', (t) =>
  t.field({
    type: RunConnectionRef,
    description: 'Runs, newest first, optionally filtered. An API key sees only its own runs.',
    args: {
      ...pageArgs,
      apiKeyId: t.arg.id(),
      promptId: t.arg.id(),
      flowId: t.arg.id(),
      status: t.arg({ type: RunStatusEnum }),
    },
    authScopes: (organization) => ({ can: { action: 'run:read', target: { organizationId: organization.id } } }),
    resolve: (organization, args, ctx) => {
      let apiKeyId = args.apiKeyId;
      if (ctx.principal.kind === 'apiKey') {
        if (apiKeyId && apiKeyId !== ctx.principal.apiKeyId) {
          throw forbidden('An API key may read runs of its own only', { reason: 'KEY_NOT_ALLOWED', apiKeyId: ctx.principal.apiKeyId });
        }
        apiKeyId = ctx.principal.apiKeyId;
      }
      const where: FilterQuery<Run> = { organization: organization.id };
      if (apiKeyId) where.apiKey = apiKeyId;
      if (args.promptId) where.prompt = args.promptId;
      if (args.flowId) where.flow = args.flowId;
      if (args.status) where.status = args.status;
      return paginate(ctx.em, RunSchema, where, RUN_ORDER, args);
    },
  }),
);

builder.queryField('run', (t) =>
  t.field({
    type: RunRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'run:read', target: { runId: id } } }),
    resolve: (_root, { id }) => id,
  }),
);

// ---- usage per key -------------------------------------------------------------------------------

/** GraphQL's Int is a signed 32-bit integer; a busy key's all-time token count outgrows it. */
const MAX_INT = 2_147_483_647;

export const UsageRef = builder.objectRef<Usage>('ApiKeyUsage').implement({
  fields: (t) => ({
    runs: t.exposeInt('runs'),
    succeeded: t.exposeInt('succeeded'),
    failed: t.exposeInt('failed'),
    averageDurationMs: t.exposeFloat('averageDurationMs', { nullable: true }),
    p95DurationMs: t.exposeFloat('p95DurationMs', { nullable: true, description: '95th percentile, nearest rank.' }),
    promptTokens: t.int({
      description: `Prompt tokens; stops at ${MAX_INT} (GraphQL's Int is 32-bit): promptTokensExact never does.`,
      resolve: (usage) => Math.min(usage.promptTokens, MAX_INT),
    }),
    completionTokens: t.int({
      description: `Completion tokens; stops at ${MAX_INT}: completionTokensExact never does.`,
      resolve: (usage) => Math.min(usage.completionTokens, MAX_INT),
    }),
    promptTokensExact: t.float({ description: 'Prompt tokens, exact beyond 32 bits (to 2^53).', resolve: (usage) => usage.promptTokens }),
    completionTokensExact: t.float({ description: 'Completion tokens, exact beyond 32 bits (to 2^53).', resolve: (usage) => usage.completionTokens }),
  }),
});

const ResourceUsageRef = builder.objectRef<ResourceUsage>('ApiKeyResourceUsage').implement({
  description: "A key's usage of one prompt or flow.",
  // The prompt or flow a readable key ran is readable here, as through the run itself.
  grantScopes: () => ['reachedPrompt', 'reachedFlow'],
  fields: (t) => ({
    kind: t.field({ type: RunKindEnum, resolve: (usage) => usage.kind }),
    prompt: t.field({
      type: PromptRef,
      nullable: true,
      resolve: (usage, _args, ctx) => (usage.kind === 'PROMPT' ? historicPrompts(ctx).load(usage.resourceId) : null),
    }),
    flow: t.field({
      type: FlowRef,
      nullable: true,
      resolve: (usage, _args, ctx) => (usage.kind === 'FLOW' ? flowLoaders(ctx).historic.load(usage.resourceId) : null),
    }),
    usage: t.field({ type: UsageRef, resolve: (usage) => usage }),
  }),
});

const windowArgs = builder.args((t) => ({
  since: t.field({ type: 'DateTime', description: 'Runs started at or after this moment.' }),
  until: t.field({ type: 'DateTime', description: 'Runs started before this moment.' }),
}));

builder.objectFields(ApiKeyRef, (t) => ({
  // byPath: the keys at one place in the query share its window, and one statement.
  usage: t.loadable({
    type: UsageRef,
    description: "Counts, failures, latency and tokens of the key's runs in a time window (all time by default).",
    args: windowArgs,
    byPath: true,
    load: (keyIds: string[], ctx: Context, window) => loadUsage(ctx.em, keyIds, window),
    resolve: (key) => key.id,
  }),
  usageByResource: t.loadableList({
    type: ResourceUsageRef,
    description: 'The same figures for each prompt and flow the key ran, most runs first.',
    args: windowArgs,
    byPath: true,
    load: (keyIds: string[], ctx: Context, window) => loadUsageByResource(ctx.em, keyIds, window),
    resolve: (key) => key.id,
  }),
}));

// ---- mutations -----------------------------------------------------------------------------------

/**
 * The run a mutation answers, already in hand: the request's run loader is given it, so reading it
 * back (its authorization, its fields) costs no statement.
 */
function answered(ctx: Context, run: Run): Run {
  RunRef.getDataloader(ctx).prime(run.id, run);
  return run;
}

/** What the run service needs from a request (the REST endpoints in server/rest/ run through it too). */
export function environment(ctx: Context): RunEnvironment {
  return {
    em: ctx.em,
    principal: ctx.principal,
    authz: ctx.authz,
    providers: ctx.providers,
    logger: ctx.logger,
    modelTimeoutMs: ctx.settings.modelTimeoutMs,
    limits: ctx.settings.runLimits,
    // Read with the prompt when authorization asked for it (access/key-path.ts): no statement of its own.
    firstGrant: (promptId) => firstGrantOfCaller(ctx, promptId),
  };
}

const RunPromptInput = builder.inputType('RunPromptInput', {
  fields: (t) => ({
    promptId: t.id({ required: true }),
    inputs: t.field({ type: 'JSON', description: 'Values of the template variables, e.g. { "text": "…" }.' }),
    endUserId: t.string({ description: "Your own id for the person this run serves, kept with the run." }),
  }),
});
const RunFlowInput = builder.inputType('RunFlowInput', {
  fields: (t) => ({
    flowId: t.id({ required: true }),
    inputs: t.field({ type: 'JSON', description: "Values of the flow's variables." }),
    endUserId: t.string(),
  }),
});
const RateRunInput = builder.inputType('RateRunInput', {
  fields: (t) => ({ runId: t.id({ required: true }), stars: t.int({ required: true, description: '1 to 5.' }) }),
});

builder.mutationFields((t) => ({
  runPrompt: t.field({
    type: RunRef,
    description: 'Runs a prompt. A provider failure returns the run FAILED; a refused or invalid request records no run.',
    args: { input: t.arg({ type: RunPromptInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'prompt:run', target: { promptId: input.promptId } } }),
    resolve: async (_root, { input }, ctx) => {
      const prompt = (await PromptRef.getDataloader(ctx).load(input.promptId))!;
      // The run's prompt is the one just run: Run.prompt and its steps' prompts read nothing.
      historicPrompts(ctx).prime(prompt.id, prompt);
      return answered(ctx, await runPrompt(environment(ctx), prompt, input));
    },
  }),
  runFlow: t.field({
    type: RunRef,
    description: 'Runs a flow, step after step. A provider failure returns the run FAILED at the step that failed.',
    args: { input: t.arg({ type: RunFlowInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'flow:run', target: { flowId: input.flowId } } }),
    resolve: async (_root, { input }, ctx) => {
      const flow = (await FlowRef.getDataloader(ctx).load(input.flowId))!;
      flowLoaders(ctx).historic.prime(flow.id, flow);
      return answered(ctx, await runFlow(environment(ctx), flow, input));
    },
  }),
  rateRun: t.field({
    type: RunRef,
    description: '1 to 5 stars for a finished run. A key rates its own runs only.',
    args: { input: t.arg({ type: RateRunInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'run:rate', target: { runId: input.runId } } }),
    resolve: async (_root, { input }, ctx) => answered(ctx, await rateRun(ctx.em, input.runId, input.stars)),
  }),
}));
