import type { EntityManager } from '@mikro-orm/core';
import type { Principal } from '../../auth/principal.ts';
import { forUpdate } from '../../db/dialect.ts';
import { badInput, conflict, notFound } from '../../errors.ts';
import { KNOWN_PROVIDERS, parseModel } from '../../providers/index.ts';
import { recordAudit, recordEdit } from '../audit/audit.service.ts';
import { promptDeleted, promptRenamed } from '../access/access-index.ts';
import { removeGrantsOf } from '../api-key/grants.ts';
import { FlowSchema, FlowStepSchema } from '../flow/flow.entity.ts';
import { checkDescription, checkName } from '../../validation.ts';
import { PromptSchema, type Prompt } from './prompt.entity.ts';
import { invalidateAccess } from '../access/invalidation.ts';

export const DEFAULT_MODEL = 'echo';
const MAX_TEMPLATE_LENGTH = 100_000;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;
const MODEL_HINT = `"echo", or a provider and a model such as "openai:gpt-4o-mini" (providers: ${KNOWN_PROVIDERS.join(', ')})`;

function checkTemplate(template: string): string {
  if (!template.trim()) throw badInput('template', 'must not be empty');
  if (template.length > MAX_TEMPLATE_LENGTH) throw badInput('template', `must be at most ${MAX_TEMPLATE_LENGTH} characters`);
  return template;
}

function checkModel(model: string): string {
  const trimmed = model.trim();
  if (!MODEL_NAME.test(trimmed) || !parseModel(trimmed)) throw badInput('model', `must be ${MODEL_HINT}`);
  return trimmed;
}

/** The fields an audit row records for a prompt. */
function auditView(prompt: Prompt) {
  return { name: prompt.name, description: prompt.description, template: prompt.template, model: prompt.model };
}

/** The prompt, locked for the rest of the transaction (see flow.service.ts checkSteps). */
async function getPromptForUpdate(em: EntityManager, id: string): Promise<Prompt> {
  const prompt = await em.findOne(PromptSchema, { id }, forUpdate(em));
  if (!prompt) throw notFound('Prompt', id);
  return prompt;
}

export async function createPrompt(
  em: EntityManager,
  actor: Principal,
  input: { organizationId: string; name: string; template: string; model?: string | null; description?: string | null },
): Promise<Prompt> {
  const values = {
    organization: input.organizationId,
    name: checkName('name', input.name),
    template: checkTemplate(input.template),
    model: checkModel(input.model ?? DEFAULT_MODEL),
    description: checkDescription(input.description),
  };
  return em.transactional(async (tx) => {
    const prompt = tx.create(PromptSchema, values);
    recordAudit(tx, actor, {
      organizationId: prompt.organization,
      action: 'prompt.created',
      targetId: prompt.id,
      changes: { after: auditView(prompt) },
    });
    return prompt;
  });
}

export async function updatePrompt(
  em: EntityManager,
  actor: Principal,
  input: { promptId: string; name?: string | null; template?: string | null; model?: string | null; description?: string | null },
): Promise<Prompt> {
  return em.transactional(async (tx) => {
    const prompt = await getPromptForUpdate(tx, input.promptId);
    await invalidateAccess(tx, `prompt:${prompt.id}`);
    const name = prompt.name;
    const updated = await recordEdit(tx, actor, prompt, { action: 'prompt.updated', view: () => auditView(prompt) }, () => {
      if (input.name != null) prompt.name = checkName('name', input.name);
      if (input.template != null) prompt.template = checkTemplate(input.template);
      if (input.model != null) prompt.model = checkModel(input.model);
      if (input.description !== undefined) prompt.description = checkDescription(input.description);
    });
    // The access index orders a key's runnable prompts by name.
    if (prompt.name !== name) await promptRenamed(tx, prompt.id, prompt.name);
    return updated;
  });
}

/**
 * Deletes a prompt that no flow uses (CONFLICT names the flows that still do). The row stays,
 * marked deleted, so past runs keep what they ran; every other read leaves it out, and no key
 * keeps a grant to it.
 */
export async function deletePrompt(em: EntityManager, actor: Principal, promptId: string): Promise<string> {
  return em.transactional(async (tx) => {
    const prompt = await getPromptForUpdate(tx, promptId);
    await invalidateAccess(tx, `prompt:${prompt.id}`);
    const steps = await tx.find(FlowStepSchema, { prompt: promptId });
    // Only live flows count: a deleted flow's steps are history.
    const flows = steps.length
      ? await tx.find(FlowSchema, { id: { $in: [...new Set(steps.map((s) => s.flow))] } }, { orderBy: { name: 'asc' } })
      : [];
    if (flows.length) {
      throw conflict(
        `Prompt ${promptId} is a step of ${flows.map((f) => `"${f.name}" (${f.id})`).join(', ')}; remove it from those flows first`,
        { flowIds: flows.map((f) => f.id) },
      );
    }
    await removeGrantsOf(tx, { promptId });
    await promptDeleted(tx, promptId);
    prompt.deletedAt = new Date();
    recordAudit(tx, actor, {
      organizationId: prompt.organization,
      action: 'prompt.deleted',
      targetId: prompt.id,
      changes: { before: auditView(prompt) },
    });
    return promptId;
  });
}
