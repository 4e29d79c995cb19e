import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { readsOnly } from '../../graphql/reads-only.ts';
import { listBound } from '../../graphql/query-cost.ts';
import { byName, connectionType, pageArgs, paginate } from '../../graphql/pagination.ts';
import { likePattern, nameFilter, searchArgs } from '../../graphql/search.ts';
import { loadSkippingKeyPathRows } from '../access/key-path.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { historicPrompts } from '../prompt/prompt.loaders.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { flowVariables } from '../prompt/template.ts';
import { FlowSchema, type Flow, type FlowStep } from './flow.entity.ts';
import { flowLoaders, loadFlows } from './flow.loaders.ts';
import { createFlow, deleteFlow, MAX_FLOW_STEPS, updateFlow } from './flow.service.ts';

/** A node loaded in batches: fields may return a flow's id, and node(id) finds it. */
export const FlowRef = builder.loadableNodeRef('Flow', {
  id: { resolve: (flow: Flow) => flow.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadSkippingKeyPathRows(ctx, 'flow', ids, (rest) => loadFlows(ctx.em, rest, { readOnly: readsOnly(ctx) }))),
});

const FlowStepRef = builder.objectRef<FlowStep>('FlowStep').implement({
  fields: (t) => ({
    position: t.exposeInt('position', { description: 'Starts at 1.' }),
    prompt: t.field({
      type: PromptRef,
      // historicPrompt: a step keeps showing its prompt even in the moment after a delete raced it.
      // The prompt passes its own check: a flow's current steps are not what a run ran.
      resolve: async (step, _args, ctx) => (await historicPrompts(ctx).load(step.prompt))!,
    }),
  }),
});

FlowRef.implement({
  authScopes: (flow) => ({
    can: { action: 'flow:read', target: { organizationId: flow.organization, flowId: flow.id } },
    // Also readable where something the caller may read names it (a run ran it; see RunRef).
    $granted: 'reachedFlow',
  }),
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (flow) => flow.organization }),
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    steps: t.field({
      type: [FlowStepRef],
      // The query cost counts as many steps as a flow may hold.
      complexity: listBound(MAX_FLOW_STEPS),
      resolve: (flow, _args, ctx) => flowLoaders(ctx).steps.load(flow.id),
    }),
    variables: t.stringList({
      description:
        "Inputs the flow needs from its caller: step 1's variables, then each later step's variables but its first, which receives the previous result.",
      resolve: async (flow, _args, ctx) => {
        const steps = await flowLoaders(ctx).steps.load(flow.id);
        const prompts = await PromptRef.getDataloader(ctx).loadMany(steps.map((step) => step.prompt));
        return flowVariables(prompts.map((prompt) => (prompt instanceof Error || !prompt ? '' : prompt.template)));
      },
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const FlowConnectionRef = connectionType('Flow', FlowRef);
const FLOW_ORDER = byName('Flow');

builder.objectField(OrganizationRef, 'flows', (t) =>
  t.field({
    type: FlowConnectionRef,
    description: 'Flows ordered by name.',
    args: { ...pageArgs, ...searchArgs },
    authScopes: (organization) => ({ can: { action: 'flow:read', target: { organizationId: organization.id } } }),
    resolve: (organization, args, ctx) =>
      paginate(ctx.em, FlowSchema, { organization: organization.id }, FLOW_ORDER, args, nameFilter(likePattern(args.search))),
  }),
);

builder.queryField('flow', (t) =>
  t.field({
    type: FlowRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'flow:read', target: { flowId: id } } }),
    resolve: (_root, { id }) => id,
  }),
);

const FlowStepInput = builder.inputType('FlowStepInput', {
  fields: (t) => ({ promptId: t.id({ required: true }) }),
});
const CreateFlowInput = builder.inputType('CreateFlowInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true }),
    steps: t.field({ type: [FlowStepInput], required: true, description: 'Prompts of the same organization, run in this order.' }),
    description: t.string(),
  }),
});
const UpdateFlowInput = builder.inputType('UpdateFlowInput', {
  fields: (t) => ({
    flowId: t.id({ required: true }),
    name: t.string(),
    description: t.string({ description: 'null clears it; leaving it out keeps it.' }),
    steps: t.field({ type: [FlowStepInput], description: 'Replaces all steps when given.' }),
  }),
});
const DeleteFlowInput = builder.inputType('DeleteFlowInput', {
  fields: (t) => ({ flowId: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  createFlow: t.field({
    type: FlowRef,
    args: { input: t.arg({ type: CreateFlowInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'flow:write', target: { organizationId: input.organizationId } } }),
    resolve: (_root, { input }, ctx) => createFlow(ctx.em, ctx.principal, input),
  }),
  updateFlow: t.field({
    type: FlowRef,
    args: { input: t.arg({ type: UpdateFlowInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'flow:write', target: { flowId: input.flowId } } }),
    resolve: (_root, { input }, ctx) => updateFlow(ctx.em, ctx.principal, input),
  }),
  deleteFlow: t.id({
    description: 'Returns the id of the deleted flow.',
    args: { input: t.arg({ type: DeleteFlowInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'flow:delete', target: { flowId: input.flowId } } }),
    resolve: (_root, { input }, ctx) => deleteFlow(ctx.em, ctx.principal, input.flowId),
  }),
}));
