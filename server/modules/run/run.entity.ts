import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { baseProperties } from '../../db/base.entity.ts';
import { ApiKeySchema } from '../api-key/api-key.entity.ts';
import { FlowSchema } from '../flow/flow.entity.ts';
import { OrganizationSchema } from '../organization/organization.entity.ts';
import { PromptSchema } from '../prompt/prompt.entity.ts';
import { UserSchema } from '../user/user.entity.ts';

export const RUN_KINDS = ['PROMPT', 'FLOW'] as const;
export const RUN_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RunSchema = defineEntity({
  name: 'Run',
  tableName: 'runs',
  properties: (p) => ({
    ...baseProperties('Run'),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    kind: p.enum([...RUN_KINDS]),
    status: p.enum([...RUN_STATUSES]),
    // Prompts and flows are only ever soft-deleted, so a run's history keeps what it ran.
    prompt: p.manyToOne(PromptSchema).mapToPk().nullable(),
    flow: p.manyToOne(FlowSchema).mapToPk().nullable(),
    /** The key that ran it; null when a signed-in user did. */
    apiKey: p.manyToOne(ApiKeySchema).mapToPk().nullable(),
    user: p.manyToOne(UserSchema).mapToPk().deleteRule('set null').nullable(),
    inputs: p.json<Record<string, unknown>>(),
    result: p.text().nullable(),
    error: p.text().nullable(),
    endUserId: p.string().length(200).nullable(),
    startedAt: p.datetime(),
    finishedAt: p.datetime().nullable(),
    durationMs: p.integer().nullable(),
    /** A run still RUNNING past this moment was cut off (a crash) and is marked FAILED. */
    deadlineAt: p.datetime(),
    promptTokens: p.integer().default(0),
    completionTokens: p.integer().default(0),
    rating: p.integer().nullable(),
    /**
     * The path by which the key was let in (access/paths.ts): ORGANIZATION_WIDE, DIRECT_GRANT or
     * FLOW_GRANT; null when a signed-in user ran it. With `grantedBy`, ApiKey.grants counts each
     * grant's use exactly.
     */
    accessVia: p.string().length(20).nullable(),
    /** The granted prompt or flow that let the key in (for FLOW_GRANT: the flow); null otherwise. */
    grantedBy: p.string().length(32).nullable(),
  }),
  indexes: [
    // organization.runs, newest first.
    { properties: ['organization', 'startedAt', 'id'] },
    // A key's runs and ApiKey.usage over a time window.
    { properties: ['apiKey', 'startedAt'] },
    // ApiKey.grants: each grant's last use and its runs in a window, as ranges of this index.
    { properties: ['apiKey', 'grantedBy', 'startedAt'] },
    { properties: ['prompt', 'startedAt'] },
    { properties: ['flow', 'startedAt'] },
    // The sweep for runs cut off by a crash.
    { properties: ['status', 'deadlineAt'] },
  ],
});
export type Run = InferEntity<typeof RunSchema>;

export const RunStepSchema = defineEntity({
  name: 'RunStep',
  tableName: 'run_steps',
  properties: (p) => ({
    ...baseProperties('RunStep'),
    run: p.manyToOne(RunSchema).mapToPk().deleteRule('cascade'),
    position: p.integer(),
    prompt: p.manyToOne(PromptSchema).mapToPk().index(),
    status: p.enum([...RUN_STATUSES]),
    result: p.text().nullable(),
    error: p.text().nullable(),
    durationMs: p.integer().nullable(),
    promptTokens: p.integer().default(0),
    completionTokens: p.integer().default(0),
  }),
  uniques: [{ properties: ['run', 'position'] }],
});
export type RunStep = InferEntity<typeof RunStepSchema>;
