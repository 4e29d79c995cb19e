import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { ApiKeyRef, UpdateApiKeyPermissionsInput } from '../api-key/api-key.schema.ts';
import type { Flow } from '../flow/flow.entity.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import type { Prompt } from '../prompt/prompt.entity.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { DEFAULT_WINDOW_MS } from './grant-use.ts';
import { previewApiKeyPermissions, type PermissionPreview, type ResourceImpact } from './preview.ts';

/** previewApiKeyPermissions (preview.ts): ADMIN and above, like the change it previews. */

const ResourceImpactRef = builder.objectRef<ResourceImpact>('ResourceImpact').implement({
  description: 'A prompt or flow the key ran in the window that new permissions would refuse.',
  fields: (t) => ({
    prompt: t.field({ type: PromptRef, nullable: true, resolve: (impact) => (impact.kind === 'prompt' ? impact.resourceId : null) }),
    flow: t.field({ type: FlowRef, nullable: true, resolve: (impact) => (impact.kind === 'flow' ? impact.resourceId : null) }),
    runs: t.exposeInt('runs'),
    endUsers: t.exposeInt('endUsers', { description: 'Distinct endUserId values among those runs.' }),
    lastRunAt: t.field({ type: 'DateTime', resolve: (impact) => impact.lastRunAt }),
  }),
});

/** Loads the rows of ids and orders them by name, then id, as every list of prompts or flows is. */
async function byName<T extends { id: string; name: string }>(loader: { loadMany(ids: readonly string[]): Promise<(T | Error | null)[]> }, ids: string[]): Promise<T[]> {
  const found = (await loader.loadMany(ids)).filter((item): item is T => item !== null && !(item instanceof Error));
  return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const prompts = (ctx: Context, ids: string[]) => byName<Prompt>(PromptRef.getDataloader(ctx), ids);
const flows = (ctx: Context, ids: string[]) => byName<Flow>(FlowRef.getDataloader(ctx), ids);

const PermissionPreviewRef = builder.objectRef<PermissionPreview>('PermissionPreview').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (preview) => preview.apiKeyId }),
    gainedPrompts: t.field({
      type: [PromptRef],
      description: 'Prompts and flows the key could not run before and could after (effective: flow grants cover their steps).',
      resolve: (preview, _args, ctx) => prompts(ctx, preview.gainedPromptIds),
    }),
    gainedFlows: t.field({ type: [FlowRef], resolve: (preview, _args, ctx) => flows(ctx, preview.gainedFlowIds) }),
    lostPrompts: t.field({
      type: [PromptRef],
      description: 'Prompts and flows the key could run before and could not after.',
      resolve: (preview, _args, ctx) => prompts(ctx, preview.lostPromptIds),
    }),
    lostFlows: t.field({ type: [FlowRef], resolve: (preview, _args, ctx) => flows(ctx, preview.lostFlowIds) }),
    wouldRefuse: t.field({
      type: [ResourceImpactRef],
      description: "The key's runs since `since` (default: 30 days before now) that the new permissions would refuse, by resource, most runs first.",
      resolve: (preview) => preview.wouldRefuse,
    }),
    refusedRuns: t.exposeInt('refusedRuns'),
  }),
});

builder.queryField('previewApiKeyPermissions', (t) =>
  t.field({
    type: PermissionPreviewRef,
    description: 'What updateApiKeyPermissions with this input would change, changing nothing (ADMIN and above).',
    args: { input: t.arg({ type: UpdateApiKeyPermissionsInput, required: true }), since: t.arg({ type: 'DateTime' }) },
    authScopes: (_root, { input }) => ({ can: { action: 'apiKey:manage', target: { apiKeyId: input.apiKeyId } } }),
    resolve: (_root, { input, since }, ctx) => {
      const now = new Date();
      return previewApiKeyPermissions(ctx.em, ctx.principal, input, since ?? new Date(now.getTime() - DEFAULT_WINDOW_MS), now);
    },
  }),
);
