import type { EntityManager } from '@mikro-orm/core';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { loadByIds, loadByIdsPrepared } from '../../db/batch.ts';
import { statement } from '../../db/prepared.ts';
import { PromptSchema, type Prompt } from './prompt.entity.ts';

/** One live prompt: the `live` filter of prompt.entity.ts, written out. */
const LIVE_PROMPT = statement('live_prompt', 'select * from prompts where id = ? and deleted_at is null');

/** Live prompts (deleted ones are not found); read-only objects when `readOnly` (db/batch.ts). */
export function loadPrompts(em: EntityManager, ids: readonly string[], options: { readOnly?: boolean } = {}): Promise<(Prompt | null)[]> {
  return loadByIdsPrepared(em, PromptSchema, LIVE_PROMPT, ids, options);
}

/** Prompts as runs saw them: deleted ones too. One per request, shared by every field that asks. */
export const historicPrompts = createContextCache(
  ({ em }: { em: EntityManager }) => new DataLoader<string, Prompt | null>((ids) => loadByIds(em, PromptSchema, ids, { filters: false })),
);
