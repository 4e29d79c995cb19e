import { builder } from '../../builder.ts';
import type { Context } from '../../context.ts';
import { connectionType, pageArgs } from '../../graphql/pagination.ts';
import type { ApiKey } from '../api-key/api-key.entity.ts';
import { ApiKeyRef } from '../api-key/api-key.schema.ts';
import { keyFacts } from '../api-key/api-key.service.ts';
import type { Flow } from '../flow/flow.entity.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import type { Prompt } from '../prompt/prompt.entity.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { AccessPathRef } from './paths.schema.ts';
import { runnableFlowPage, runnablePromptPage, type Runnable } from './runnable.ts';
import { readsOnly } from '../../graphql/reads-only.ts';

/**
 * ApiKey.runnablePrompts and runnableFlows: what a key may run now (runnable.ts). They are fields of
 * ApiKey, so whoever may read the key reads them: members any key of their organization, a key
 * itself (the discovery a partner app wants), nobody else.
 */

const RunnablePromptRef = builder.objectRef<Runnable<Prompt>>('RunnablePrompt').implement({
  // The key may run it, so whoever reads the key reads the prompt here (no second decision per row).
  grantScopes: () => ['reachedPrompt', 'reachedFlow'],
  fields: (t) => ({
    prompt: t.field({ type: PromptRef, resolve: (item) => item.node }),
    via: t.field({ type: [AccessPathRef], resolve: (item) => item.via }),
  }),
});

const RunnableFlowRef = builder.objectRef<Runnable<Flow>>('RunnableFlow').implement({
  grantScopes: () => ['reachedFlow'],
  fields: (t) => ({
    flow: t.field({ type: FlowRef, resolve: (item) => item.node }),
    via: t.field({ type: [AccessPathRef], resolve: (item) => item.via }),
  }),
});

const RunnablePromptConnectionRef = connectionType('RunnablePrompt', RunnablePromptRef);
const RunnableFlowConnectionRef = connectionType('RunnableFlow', RunnableFlowRef);

/**
 * The rows of a page prime the loaders, so their fields and later checks reuse them. They are
 * read-only objects (runnable.ts): only a query's loaders take them (graphql/reads-only.ts), since a
 * later field of a mutation must see what an earlier one changed.
 */
function primed<T extends { id: string }>(ctx: Context, ref: typeof PromptRef | typeof FlowRef, page: Awaited<ReturnType<typeof runnablePromptPage>> | Awaited<ReturnType<typeof runnableFlowPage>>) {
  if (!readsOnly(ctx)) return page;
  const loader = ref.getDataloader(ctx) as { prime(id: string, value: T): unknown };
  for (const edge of page.edges) loader.prime(edge.node.node.id, edge.node.node as unknown as T);
  return page;
}

builder.objectFields(ApiKeyRef, (t) => ({
  runnablePrompts: t.field({
    type: RunnablePromptConnectionRef,
    description:
      'What the key may run now, by the one access rule, ordered by name; every prompt of the organization for an ORGANIZATION key.',
    args: pageArgs,
    resolve: async (key: ApiKey, args, ctx) => primed(ctx, PromptRef, await runnablePromptPage(ctx.em, keyFacts(key), args, new Date())) as never,
  }),
  runnableFlows: t.field({
    type: RunnableFlowConnectionRef,
    args: pageArgs,
    resolve: async (key: ApiKey, args, ctx) => primed(ctx, FlowRef, await runnableFlowPage(ctx.em, keyFacts(key), args, new Date())) as never,
  }),
}));
