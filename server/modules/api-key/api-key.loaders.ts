import type { EntityManager } from '@mikro-orm/core';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { groupBy, loadByIds } from '../../db/batch.ts';
import { ApiKeyFlowGrantSchema, ApiKeyPromptGrantSchema, ApiKeySchema, type ApiKey } from './api-key.entity.ts';

export function loadApiKeys(em: EntityManager, ids: readonly string[]): Promise<(ApiKey | null)[]> {
  return loadByIds(em, ApiKeySchema, ids);
}

/** Prompt ids and flow ids granted to each key, sorted; one loader per request. */
export const grantLoader = createContextCache(
  ({ em }: { em: EntityManager }) =>
    new DataLoader<string, { promptIds: string[]; flowIds: string[] }>(async (keyIds) => {
      const [prompts, flows] = [
        await em.find(ApiKeyPromptGrantSchema, { apiKey: { $in: [...keyIds] } }, { orderBy: { prompt: 'asc' } }),
        await em.find(ApiKeyFlowGrantSchema, { apiKey: { $in: [...keyIds] } }, { orderBy: { flow: 'asc' } }),
      ];
      const promptIds = groupBy(prompts, (g) => g.apiKey, (g) => g.prompt);
      const flowIds = groupBy(flows, (g) => g.apiKey, (g) => g.flow);
      return keyIds.map((id) => ({ promptIds: promptIds.get(id) ?? [], flowIds: flowIds.get(id) ?? [] }));
    }),
);
