import type { EntityManager } from '@mikro-orm/core';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { loadByIds } from '../../db/batch.ts';
import { PromptSchema, type Prompt } from './prompt.entity.ts';

/** Live prompts (deleted ones are not found). */
export function loadPrompts(em: EntityManager, ids: readonly string[]): Promise<(Prompt | null)[]> {
  return loadByIds(em, PromptSchema, ids);
}

/** Prompts as runs saw them: deleted ones too. One per request, shared by every field that asks. */
export const historicPrompts = createContextCache(
  ({ em }: { em: EntityManager }) => new DataLoader<string, Prompt | null>((ids) => loadByIds(em, PromptSchema, ids, { filters: false })),
);
