import type { EntityManager } from '@mikro-orm/core';
import { groupBy, loadByIds } from '../../db/batch.ts';
import { RunSchema, RunStepSchema, type Run, type RunStep } from './run.entity.ts';
import { NO_USAGE, usageByResourceOfKeys, usageOfKeys, type ResourceUsage, type Usage, type UsageWindow } from './usage.ts';

export function loadRuns(em: EntityManager, ids: readonly string[]): Promise<(Run | null)[]> {
  return loadByIds(em, RunSchema, ids);
}

/** The steps of each run, in order. */
export async function loadRunSteps(em: EntityManager, runIds: readonly string[]): Promise<RunStep[][]> {
  const steps = await em.find(RunStepSchema, { run: { $in: [...runIds] } }, { orderBy: { position: 'asc' } });
  const byRun = groupBy(steps, (step) => step.run);
  return runIds.map((id) => byRun.get(id) ?? []);
}

/** Usage of each key in one window: one statement for every key of a page. */
export async function loadUsage(em: EntityManager, keyIds: readonly string[], window: UsageWindow): Promise<Usage[]> {
  const found = await usageOfKeys(em, keyIds, window);
  return keyIds.map((id) => found.get(id) ?? NO_USAGE);
}

/** Usage of each key per prompt and flow in one window: one statement for every key of a page. */
export async function loadUsageByResource(em: EntityManager, keyIds: readonly string[], window: UsageWindow): Promise<ResourceUsage[][]> {
  const found = await usageByResourceOfKeys(em, keyIds, window);
  return keyIds.map((id) => found.get(id) ?? []);
}
