import type { EntityManager } from '@mikro-orm/core';
import { ApiKeyFlowGrantSchema, ApiKeyPromptGrantSchema } from './api-key.entity.ts';

/** Takes a deleted prompt or flow out of every key's grants, in the caller's transaction. */
export async function removeGrantsOf(em: EntityManager, resource: { promptId: string } | { flowId: string }): Promise<void> {
  if ('promptId' in resource) await em.nativeDelete(ApiKeyPromptGrantSchema, { prompt: resource.promptId });
  else await em.nativeDelete(ApiKeyFlowGrantSchema, { flow: resource.flowId });
}
