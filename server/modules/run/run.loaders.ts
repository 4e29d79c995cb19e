import type { EntityManager } from '@mikro-orm/core';
import { groupBy, loadByIds } from '../../db/batch.ts';
import { readOnlyEntities } from '../../db/read-only.ts';
import { RunSchema, RunStepSchema, type Run, type RunStep } from './run.entity.ts';
import { NO_USAGE, usageByResourceOfKeys, usageOfKeys, type ResourceUsage, type Usage, type UsageWindow } from './usage.ts';

export function loadRuns(em: EntityManager, ids: readonly string[]): Promise<(Run | null)[]> {
  return loadByIds(em, RunSchema, ids);
}

/**
 * The step rows a request has just written, by run (run-record.ts), so the steps of the run a
 * mutation answers are not read back. Keyed by the request's EntityManager, as key-path.ts keys
 * its reads; made read-only objects (db/read-only.ts) only if the request asks for them.
 */
const writtenSteps = new WeakMap<EntityManager, Map<string, readonly Record<string, unknown>[]>>();

export function rememberWrittenSteps(em: EntityManager, runId: string, rows: readonly Record<string, unknown>[]): void {
  let byRun = writtenSteps.get(em);
  if (!byRun) writtenSteps.set(em, (byRun = new Map()));
  byRun.set(runId, rows);
}

/** The steps of each run, in order: those this request wrote from what it wrote, the others in one statement. */
export async function loadRunSteps(em: EntityManager, runIds: readonly string[]): Promise<RunStep[][]> {
  const written = writtenSteps.get(em);
  const toRead = written ? runIds.filter((id) => !written.has(id)) : runIds;
  const steps = toRead.length ? await em.find(RunStepSchema, { run: { $in: [...toRead] } }, { orderBy: { position: 'asc' } }) : [];
  const byRun = groupBy(steps, (step) => step.run);
  // Written steps are shown, never changed, like the run they belong to (run-record.ts): read-only objects.
  return runIds.map((id) => byRun.get(id) ?? (written?.has(id) ? readOnlyEntities(em, RunStepSchema, written.get(id)!) : []));
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
