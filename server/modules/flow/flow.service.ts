import type { EntityManager } from '@mikro-orm/core';
import type { Principal } from '../../auth/principal.ts';
import { forShare, forUpdate } from '../../db/dialect.ts';
import { badInput, notFound } from '../../errors.ts';
import { flowStepsChanged, keysReindexed } from '../access/access-index.ts';
import { ApiKeyFlowGrantSchema } from '../api-key/api-key.entity.ts';
import { removeGrantsOf } from '../api-key/grants.ts';
import { recordAudit, recordEdit } from '../audit/audit.service.ts';
import { PromptSchema } from '../prompt/prompt.entity.ts';
import { checkDescription, checkName } from '../../validation.ts';
import { FlowSchema, FlowStepSchema, type Flow } from './flow.entity.ts';
import { invalidateAccess } from '../access/invalidation.ts';

export const MAX_FLOW_STEPS = 20;

/** Checks that every step names a prompt of the flow's own organization; returns the prompt ids in order. */
async function checkSteps(em: EntityManager, organizationId: string, steps: { promptId: string }[]): Promise<string[]> {
  if (steps.length === 0) throw badInput('steps', 'a flow needs at least one step');
  if (steps.length > MAX_FLOW_STEPS) throw badInput('steps', `a flow has at most ${MAX_FLOW_STEPS} steps`);
  const promptIds = steps.map((step) => step.promptId);
  // Shared locks: a prompt cannot be deleted while a flow that is being saved takes it as a step.
  const found = await em.find(PromptSchema, { id: { $in: promptIds }, organization: organizationId }, { fields: ['id'], ...forShare(em) });
  const known = new Set(found.map((prompt) => prompt.id));
  const index = promptIds.findIndex((id) => !known.has(id));
  // A prompt of another organization is as unknown here as one that does not exist (rule 4).
  if (index >= 0) throw notFound(`Prompt (steps[${index}].promptId)`, promptIds[index]!);
  return promptIds;
}

function writeSteps(em: EntityManager, flowId: string, promptIds: string[]): void {
  promptIds.forEach((prompt, index) =>
    em.create(FlowStepSchema, { flow: flowId, position: index + 1, prompt }),
  );
}

function auditView(flow: Flow, promptIds: string[]) {
  return { name: flow.name, description: flow.description, steps: promptIds };
}

/** The flow, locked for the rest of the transaction, so two edits of its steps never interleave. */
async function getFlowForUpdate(em: EntityManager, id: string): Promise<Flow> {
  const flow = await em.findOne(FlowSchema, { id }, forUpdate(em));
  if (!flow) throw notFound('Flow', id);
  return flow;
}

async function stepPromptIds(em: EntityManager, flowId: string): Promise<string[]> {
  const steps = await em.find(FlowStepSchema, { flow: flowId }, { orderBy: { position: 'asc' } });
  return steps.map((step) => step.prompt);
}

export async function createFlow(
  em: EntityManager,
  actor: Principal,
  input: { organizationId: string; name: string; steps: { promptId: string }[]; description?: string | null },
): Promise<Flow> {
  const name = checkName('name', input.name);
  const description = checkDescription(input.description);
  return em.transactional(async (tx) => {
    const promptIds = await checkSteps(tx, input.organizationId, input.steps);
    const flow = tx.create(FlowSchema, { organization: input.organizationId, name, description });
    writeSteps(tx, flow.id, promptIds);
    recordAudit(tx, actor, {
      organizationId: flow.organization,
      action: 'flow.created',
      targetId: flow.id,
      changes: { after: auditView(flow, promptIds) },
    });
    return flow;
  });
}

export async function updateFlow(
  em: EntityManager,
  actor: Principal,
  input: { flowId: string; name?: string | null; description?: string | null; steps?: { promptId: string }[] | null },
): Promise<Flow> {
  return em.transactional(async (tx) => {
    const flow = await getFlowForUpdate(tx, input.flowId);
    await invalidateAccess(tx, `flow:${flow.id}`);
    let steps = await stepPromptIds(tx, flow.id);
    return recordEdit(tx, actor, flow, { action: 'flow.updated', view: () => auditView(flow, steps) }, async () => {
      if (input.name != null) flow.name = checkName('name', input.name);
      if (input.description !== undefined) flow.description = checkDescription(input.description);
      if (input.steps == null) return;
      const newSteps = await checkSteps(tx, flow.organization, input.steps);
      if (newSteps.join() !== steps.join()) {
        // Positions are unique per flow: clear the old steps before the new ones are inserted.
        await tx.nativeDelete(FlowStepSchema, { flow: flow.id });
        writeSteps(tx, flow.id, newSteps);
        await tx.flush();
        // Every key granted the flow now reaches the new steps' prompts and no longer the old ones'.
        await flowStepsChanged(tx, flow.id, [...steps, ...newSteps]);
      }
      steps = newSteps;
    });
  });
}

export async function deleteFlow(em: EntityManager, actor: Principal, flowId: string): Promise<string> {
  return em.transactional(async (tx) => {
    const flow = await getFlowForUpdate(tx, flowId);
    await invalidateAccess(tx, `flow:${flow.id}`);
    const steps = await stepPromptIds(tx, flow.id);
    recordAudit(tx, actor, {
      organizationId: flow.organization,
      action: 'flow.deleted',
      targetId: flow.id,
      changes: { before: auditView(flow, steps) },
    });
    const grantedKeys = (await tx.find(ApiKeyFlowGrantSchema, { flow: flowId }, { fields: ['apiKey'] })).map((grant) => grant.apiKey);
    await removeGrantsOf(tx, { flowId });
    // Kept, marked deleted, so past runs keep what they ran (see prompt.service.ts).
    flow.deletedAt = new Date();
    await tx.flush();
    // The keys it was granted to reach its prompts now only through their other grants, if any.
    await keysReindexed(tx, grantedKeys, steps);
    return flowId;
  });
}
