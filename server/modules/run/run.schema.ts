import type { FilterQuery } from '@mikro-orm/core';
import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { forbidden } from '../../errors.ts';
import { NodeRef, registerNodeLoader } from '../../graphql/node.ts';
import { connectionType, pageArgs, paginate } from '../../graphql/pagination.ts';
import { ApiKeyRef } from '../api-key/api-key.schema.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { UserRef } from '../user/user.schema.ts';
import { RUN_KINDS, RUN_STATUSES, RunSchema, type Run, type RunStep } from './run.entity.ts';
import { rateRun, runFlow, runPrompt, type RunEnvironment } from './run.service.ts';
import { usageKey } from '../../loaders.ts';
import type { ResourceUsage, Usage } from './usage.ts';

const RunKindEnum = builder.enumType('RunKind', { values: RUN_KINDS });
const RunStatusEnum = builder.enumType('RunStatus', { values: RUN_STATUSES });

const RunStepRef = builder.objectRef<RunStep>('RunStep').implement({
  fields: (t) => ({
    position: t.exposeInt('position'),
    prompt: t.field({
      type: PromptRef,
      resolve: async (step, _args, ctx) => ctx.authz.disclose((await ctx.loaders.historicPrompt.load(step.prompt))!),
    }),
    status: t.field({ type: RunStatusEnum, resolve: (step) => step.status }),
    result: t.exposeString('result', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens'),
    completionTokens: t.exposeInt('completionTokens'),
  }),
});

export const RunRef = builder.objectRef<Run>('Run').implement({
  interfaces: [NodeRef],
  // Members read every run of their organization; a key reads the runs it made.
  authScopes: (run) => ({ can: { action: 'run:read', target: { runId: run.id } } }),
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: RunKindEnum, resolve: (run) => run.kind }),
    status: t.field({ type: RunStatusEnum, resolve: (run) => run.status }),
    prompt: t.field({
      type: PromptRef,
      nullable: true,
      resolve: async (run, _args, ctx) => (run.prompt ? ctx.authz.disclose(await ctx.loaders.historicPrompt.load(run.prompt)) : null),
    }),
    flow: t.field({
      type: FlowRef,
      nullable: true,
      resolve: async (run, _args, ctx) => (run.flow ? ctx.authz.disclose(await ctx.loaders.historicFlow.load(run.flow)) : null),
    }),
    apiKey: t.field({
      type: ApiKeyRef,
      nullable: true,
      description: 'The key that ran it; null when a signed-in user ran it.',
      resolve: (run, _args, ctx) => (run.apiKey ? ctx.loaders.apiKey.load(run.apiKey) : null),
    }),
    user: t.field({
      type: UserRef,
      nullable: true,
      resolve: async (run, _args, ctx) => (run.user ? ctx.authz.disclose(await ctx.loaders.user.load(run.user)) : null),
    }),
    inputs: t.expose('inputs', { type: 'JSON' }),
    result: t.exposeString('result', { nullable: true }),
    error: t.exposeString('error', { nullable: true }),
    endUserId: t.exposeString('endUserId', { nullable: true }),
    steps: t.field({ type: [RunStepRef], resolve: (run, _args, ctx) => ctx.loaders.runSteps.load(run.id) }),
    startedAt: t.expose('startedAt', { type: 'DateTime' }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    promptTokens: t.exposeInt('promptTokens', { description: 'Tokens the provider counted in the prompts; 0 for echo.' }),
    completionTokens: t.exposeInt('completionTokens', { description: 'Tokens the provider counted in its answers; 0 for echo.' }),
    rating: t.exposeInt('rating', { nullable: true, description: '1 to 5 stars, once rated.' }),
  }),
});

registerNodeLoader('Run', (ctx, id) => ctx.loaders.run.load(id));

const RunConnectionRef = connectionType('Run', RunRef);

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
        if (apiKeyId && apiKeyId !== ctx.principal.apiKeyId) throw forbidden('An API key may read runs of its own only');
        apiKeyId = ctx.principal.apiKeyId;
      }
      const where: FilterQuery<Run> = { organization: organization.id };
      if (apiKeyId) where.apiKey = apiKeyId;
      if (args.promptId) where.prompt = args.promptId;
      if (args.flowId) where.flow = args.flowId;
      if (args.status) where.status = args.status;
      return paginate(ctx.em, RunSchema, where, { startedAt: 'desc', id: 'desc' }, args);
    },
  }),
);

builder.queryField('run', (t) =>
  t.field({
    type: RunRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'run:read', target: { runId: id } } }),
    resolve: (_root, { id }, ctx) => ctx.loaders.run.load(id),
  }),
);

// ---- usage per key -------------------------------------------------------------------------------

/** GraphQL's Int is a signed 32-bit integer; a busy key's all-time token count outgrows it. */
const MAX_INT = 2_147_483_647;

const UsageRef = builder.objectRef<Usage>('ApiKeyUsage').implement({
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
  fields: (t) => ({
    kind: t.field({ type: RunKindEnum, resolve: (usage) => usage.kind }),
    prompt: t.field({
      type: PromptRef,
      nullable: true,
      resolve: async (usage, _args, ctx) =>
        usage.kind === 'PROMPT' ? ctx.authz.disclose(await ctx.loaders.historicPrompt.load(usage.resourceId)) : null,
    }),
    flow: t.field({
      type: FlowRef,
      nullable: true,
      resolve: async (usage, _args, ctx) =>
        usage.kind === 'FLOW' ? ctx.authz.disclose(await ctx.loaders.historicFlow.load(usage.resourceId)) : null,
    }),
    usage: t.field({ type: UsageRef, resolve: (usage) => usage }),
  }),
});

const windowArgs = builder.args((t) => ({
  since: t.field({ type: 'DateTime', description: 'Runs started at or after this moment.' }),
  until: t.field({ type: 'DateTime', description: 'Runs started before this moment.' }),
}));

builder.objectFields(ApiKeyRef, (t) => ({
  usage: t.field({
    type: UsageRef,
    description: "Counts, failures, latency and tokens of the key's runs in a time window (all time by default).",
    args: windowArgs,
    resolve: (key, args, ctx) => ctx.loaders.keyUsage.load(usageKey(key.id, args)),
  }),
  usageByResource: t.field({
    type: [ResourceUsageRef],
    description: 'The same figures for each prompt and flow the key ran, most runs first.',
    args: windowArgs,
    resolve: (key, args, ctx) => ctx.loaders.keyUsageByResource.load(usageKey(key.id, args)),
  }),
}));

// ---- mutations -----------------------------------------------------------------------------------

function environment(ctx: Context): RunEnvironment {
  return { em: ctx.em, principal: ctx.principal, authz: ctx.authz, providers: ctx.providers, logger: ctx.logger, modelTimeoutMs: ctx.settings.modelTimeoutMs, limits: ctx.settings.runLimits };
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
    resolve: async (_root, { input }, ctx) => runPrompt(environment(ctx), (await ctx.loaders.prompt.load(input.promptId))!, input),
  }),
  runFlow: t.field({
    type: RunRef,
    description: 'Runs a flow, step after step. A provider failure returns the run FAILED at the step that failed.',
    args: { input: t.arg({ type: RunFlowInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'flow:run', target: { flowId: input.flowId } } }),
    resolve: async (_root, { input }, ctx) => runFlow(environment(ctx), (await ctx.loaders.flow.load(input.flowId))!, input),
  }),
  rateRun: t.field({
    type: RunRef,
    description: '1 to 5 stars for a finished run. A key rates its own runs only.',
    args: { input: t.arg({ type: RateRunInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'run:rate', target: { runId: input.runId } } }),
    resolve: (_root, { input }, ctx) => rateRun(ctx.em, input.runId, input.stars),
  }),
}));
