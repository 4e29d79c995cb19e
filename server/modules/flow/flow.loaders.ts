import type { EntityManager } from '@mikro-orm/core';
import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import { groupBy, loadByIds, loadByIdsPrepared } from '../../db/batch.ts';
import { statement } from '../../db/prepared.ts';
import { FlowSchema, FlowStepSchema, type Flow, type FlowStep } from './flow.entity.ts';

/** One live flow: the `live` filter of flow.entity.ts, written out. */
const LIVE_FLOW = statement('live_flow', 'select * from flows where id = ? and deleted_at is null');

/** Live flows (deleted ones are not found); read-only objects when `readOnly` (db/batch.ts). */
export function loadFlows(em: EntityManager, ids: readonly string[], options: { readOnly?: boolean } = {}): Promise<(Flow | null)[]> {
  return loadByIdsPrepared(em, FlowSchema, LIVE_FLOW, ids, options);
}

/** The flow module's per-request loaders, shared by every field that asks. */
export const flowLoaders = createContextCache(({ em }: { em: EntityManager }) => ({
  /** Flows as runs saw them: deleted ones too. */
  historic: new DataLoader<string, Flow | null>((ids) => loadByIds(em, FlowSchema, ids, { filters: false })),
  /** The steps of each flow, in order: steps and variables both read them. */
  steps: new DataLoader<string, FlowStep[]>(async (flowIds) => {
    const steps = await em.find(FlowStepSchema, { flow: { $in: [...flowIds] } }, { orderBy: { position: 'asc' } });
    const byFlow = groupBy(steps, (step) => step.flow);
    return flowIds.map((id) => byFlow.get(id) ?? []);
  }),
}));
