import { builder } from '../../builder.ts';
import { NodeRef } from '../../graphql/node.ts';
import { connectionType, pageArgs, paginate } from '../../graphql/pagination.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { PromptSchema, type Prompt } from './prompt.entity.ts';
import { createPrompt, deletePrompt, updatePrompt } from './prompt.service.ts';
import { templateVariables } from './template.ts';

export const PromptRef = builder.objectRef<Prompt>('Prompt');

PromptRef.implement({
  interfaces: [NodeRef],
  authScopes: (prompt) => ({
    can: { action: 'prompt:read', target: { organizationId: prompt.organization, promptId: prompt.id } },
  }),
  fields: (t) => ({
    id: t.exposeID('id'),
    organization: t.field({
      type: OrganizationRef,
      resolve: async (prompt, _args, ctx) => (await ctx.loaders.organization.load(prompt.organization))!,
    }),
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    template: t.exposeString('template', { description: 'Text with {{variable}} placeholders.' }),
    model: t.exposeString('model', { description: 'Model that runs it; "echo" returns the rendered template.' }),
    variables: t.stringList({
      description: 'Placeholder names found in the template, in order of first appearance.',
      resolve: (prompt) => templateVariables(prompt.template),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

export const PromptConnectionRef = connectionType('Prompt', PromptRef);

builder.objectField(OrganizationRef, 'prompts', (t) =>
  t.field({
    type: PromptConnectionRef,
    description: 'Prompts ordered by name.',
    args: pageArgs,
    authScopes: (organization) => ({ can: { action: 'prompt:read', target: { organizationId: organization.id } } }),
    resolve: (organization, args, ctx) =>
      paginate(ctx.em, PromptSchema, { organization: organization.id }, { name: 'asc', id: 'asc' }, args),
  }),
);

builder.queryField('prompt', (t) =>
  t.field({
    type: PromptRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'prompt:read', target: { promptId: id } } }),
    resolve: (_root, { id }, ctx) => ctx.loaders.prompt.load(id),
  }),
);

const CreatePromptInput = builder.inputType('CreatePromptInput', {
  fields: (t) => ({
    organizationId: t.id({ required: true }),
    name: t.string({ required: true }),
    template: t.string({ required: true, description: 'Text with {{variable}} placeholders.' }),
    model: t.string({ description: 'Defaults to "echo", which returns the rendered template.' }),
    description: t.string(),
  }),
});
const UpdatePromptInput = builder.inputType('UpdatePromptInput', {
  fields: (t) => ({
    promptId: t.id({ required: true }),
    name: t.string(),
    template: t.string(),
    model: t.string(),
    description: t.string({ description: 'null clears it; leaving it out keeps it.' }),
  }),
});
const DeletePromptInput = builder.inputType('DeletePromptInput', {
  fields: (t) => ({ promptId: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  createPrompt: t.field({
    type: PromptRef,
    args: { input: t.arg({ type: CreatePromptInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'prompt:write', target: { organizationId: input.organizationId } } }),
    resolve: (_root, { input }, ctx) => createPrompt(ctx.em, ctx.principal, input),
  }),
  updatePrompt: t.field({
    type: PromptRef,
    args: { input: t.arg({ type: UpdatePromptInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'prompt:write', target: { promptId: input.promptId } } }),
    resolve: (_root, { input }, ctx) => updatePrompt(ctx.em, ctx.principal, input),
  }),
  deletePrompt: t.id({
    description: 'Returns the id of the deleted prompt. A prompt that is a step of a flow is CONFLICT.',
    args: { input: t.arg({ type: DeletePromptInput, required: true }) },
    authScopes: (_root, { input }) => ({ can: { action: 'prompt:delete', target: { promptId: input.promptId } } }),
    resolve: (_root, { input }, ctx) => deletePrompt(ctx.em, ctx.principal, input.promptId),
  }),
}));
