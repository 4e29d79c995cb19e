import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/core';
import { builder } from '../../builder.ts';
import { listBound } from '../../graphql/query-cost.ts';
import type { ApiKey } from '../api-key/api-key.entity.ts';
import { ApiKeyRef } from '../api-key/api-key.schema.ts';
import { MAX_GRANTS_PER_KEY } from '../api-key/api-key.service.ts';
import { FlowRef } from '../flow/flow.schema.ts';
import { PromptRef } from '../prompt/prompt.schema.ts';
import { DEFAULT_WINDOW_MS, grantUses, type GrantUse } from './grant-use.ts';

/**
 * ApiKey.grants (grant-use.ts): a field of ApiKey, readable by whoever may read the key. The list
 * and its default window are one statement; `runs(since:)` with another window is one more per key
 * and window, for all the key's grants at once.
 */

/** Grant uses of a key in another window than the default, one statement per (key, since). */
const usesLoader = createContextCache(
  ({ em }: { em: EntityManager }) =>
    new DataLoader<string, Map<string, number>>(async (keys) =>
      Promise.all(
        keys.map(async (cacheKey) => {
          const [apiKeyId, since] = cacheKey.split('|') as [string, string];
          return new Map((await grantUses(em, apiKeyId, new Date(since))).map((use) => [use.resourceId, use.runs]));
        }),
      ),
    ),
);

const ApiKeyGrantRef = builder.objectRef<GrantUse>('ApiKeyGrant').implement({
  description: 'One grant of a SPECIFIC key, with its use.',
  // The key's own grants: whoever reads the key reads what it is granted, as ApiKey.prompts does.
  grantScopes: () => ['reachedPrompt', 'reachedFlow'],
  fields: (t) => ({
    prompt: t.field({ type: PromptRef, nullable: true, description: 'Exactly one of prompt and flow is set.', resolve: (use) => (use.kind === 'prompt' ? use.resourceId : null) }),
    flow: t.field({ type: FlowRef, nullable: true, resolve: (use) => (use.kind === 'flow' ? use.resourceId : null) }),
    grantedAt: t.field({ type: 'DateTime', resolve: (use) => use.grantedAt }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: "The key's last run that this grant allowed (for a flow grant: the flow or any prompt it covers).",
      resolve: (use) => use.lastUsedAt,
    }),
    runs: t.int({
      description: 'Runs that this grant allowed since `since` (default: 30 days before now).',
      args: { since: t.arg({ type: 'DateTime' }) },
      resolve: async (use, { since }, ctx) => {
        if (!since) return use.runs;
        return (await usesLoader(ctx).load(`${use.apiKeyId}|${since.toISOString()}`)).get(use.resourceId) ?? 0;
      },
    }),
  }),
});

builder.objectField(ApiKeyRef, 'grants', (t) =>
  t.field({
    type: [ApiKeyGrantRef],
    description: "The key's grants with their use; empty when access is ORGANIZATION.",
    complexity: listBound(MAX_GRANTS_PER_KEY),
    resolve: (key: ApiKey, _args, ctx) => grantUses(ctx.em, key.id, new Date(Date.now() - DEFAULT_WINDOW_MS)),
  }),
);
