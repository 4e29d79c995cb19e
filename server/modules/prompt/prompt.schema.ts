import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { missingAsNull } from '../../graphql/loadable.ts';
import { readsOnly } from '../../graphql/reads-only.ts';
import { byName, connectionType, pageArgs, paginate } from '../../graphql/pagination.ts';
import { likePattern, nameFilter, searchArgs } from '../../graphql/search.ts';
import { loadSkippingKeyPathRows } from '../access/key-path.ts';
import { OrganizationRef } from '../organization/organization.schema.ts';
import { PromptSchema, type Prompt } from './prompt.entity.ts';
import { loadPrompts } from './prompt.loaders.ts';
import { createPrompt, deletePrompt, updatePrompt } from './prompt.service.ts';
import { templateVariables } from './template.ts';

/** A node loaded in batches: fields may return a prompt's id, and node(id) finds it. */
export const PromptRef = builder.loadableNodeRef('Prompt', {
  id: { resolve: (prompt: Prompt) => prompt.id },
  load: (ids: string[], ctx: Context) => missingAsNull(loadSkippingKeyPathRows(ctx, 'prompt', ids, (rest) => loadPrompts(ctx.em, rest, { readOnly: readsOnly(ctx) }))),
});

PromptRef.implement({
  authScopes: (prompt) => ({
    can: { action: 'prompt:read', target: { organizationId: prompt.organization, promptId: prompt.id } },
    // Also readable where something the caller may read names it (a run ran it): the grant is
    // made by that object's type, for its own fields only (see RunRef).
    $granted: 'reachedPrompt',
  }),
  fields: (t) => ({
    organization: t.field({ type: OrganizationRef, resolve: (prompt) => prompt.organization }),
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
const PROMPT_ORDER = byName('Prompt');

builder.objectField(OrganizationRef, 'prompts', (t) =>
  t.field({
    type: PromptConnectionRef,
    description: 'Prompts ordered by name.',
    args: { ...pageArgs, ...searchArgs },
    authScopes: (organization) => ({ can: { action: 'prompt:read', target: { organizationId: organization.id } } }),
    resolve: (organization, args, ctx) =>
      paginate(ctx.em, PromptSchema, { organization: organization.id }, PROMPT_ORDER, args, nameFilter(likePattern(args.search))),
  }),
);

builder.queryField('prompt', (t) =>
  t.field({
    type: PromptRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_root, { id }) => ({ can: { action: 'prompt:read', target: { promptId: id } } }),
    resolve: (_root, { id }) => id,
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
