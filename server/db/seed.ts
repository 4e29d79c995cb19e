import type { EntityManager } from '@mikro-orm/core';
import { createFlow } from '../modules/flow/flow.service.ts';
import { createOrganization } from '../modules/organization/organization.service.ts';
import { createPrompt } from '../modules/prompt/prompt.service.ts';
import { signUp } from '../modules/user/user.service.ts';
import { UserSchema } from '../modules/user/user.entity.ts';

/**
 * The demo account. Its password is public (it is printed, and in the README): it exists so that
 * a newcomer can try PromptGate in GraphiQL within a minute on the embedded database, which is
 * only ever seeded when it is new.
 */
export const DEMO_OWNER = { email: 'demo@promptgate.local', password: 'promptgate-demo', name: 'Demo Owner' };

export interface SeedResult {
  organizationId: string;
  promptIds: string[];
  flowId: string;
}

/** True when no account exists yet. */
export async function isEmpty(em: EntityManager): Promise<boolean> {
  return (await em.count(UserSchema, {})) === 0;
}

/** Seeds an owner, an organization, two prompts and a flow, through the same services as the API. */
export async function seedDemo(em: EntityManager): Promise<SeedResult> {
  const { user } = await signUp(em, DEMO_OWNER, 3600);
  const actor = { kind: 'user', userId: user.id, sessionId: 'seed' } as const;
  const organization = await createOrganization(em, actor, { name: 'Acme Demo' });
  const summarize = await createPrompt(em, actor, {
    organizationId: organization.id,
    name: 'Summarize',
    description: 'One-sentence summary of a text.',
    template: 'Summarize in one sentence: {{text}}',
  });
  const translate = await createPrompt(em, actor, {
    organizationId: organization.id,
    name: 'Translate',
    description: 'Translates a text into a language.',
    // `text` comes first: in the flow, step 2's first variable receives step 1's result.
    template: 'Translate this text: {{ text }}\nInto: {{language}}',
  });
  const flow = await createFlow(em, actor, {
    organizationId: organization.id,
    name: 'Summarize, then translate',
    description: 'The summary of step 1 becomes the text that step 2 translates.',
    steps: [{ promptId: summarize.id }, { promptId: translate.id }],
  });
  return { organizationId: organization.id, promptIds: [summarize.id, translate.id], flowId: flow.id };
}

export function seedMessage(url: string): string {
  return [
    'Seeded a demo organization "Acme Demo" with two prompts and a flow.',
    `Sign in at ${url} with the logIn mutation:`,
    `  email: ${DEMO_OWNER.email}   password: ${DEMO_OWNER.password}   (a public demo password: change it for real use)`,
  ].join('\n');
}
