import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { baseProperties, timestampedProperties } from '../../db/base.entity.ts';
import { OrganizationSchema } from '../organization/organization.entity.ts';
import { PromptSchema } from '../prompt/prompt.entity.ts';

export const FlowSchema = defineEntity({
  name: 'Flow',
  tableName: 'flows',
  properties: (p) => ({
    ...timestampedProperties('Flow'),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    name: p.string().length(200),
    description: p.text().nullable(),
    /** Set when deleted: runs keep pointing at it, every other read leaves it out. */
    deletedAt: p.datetime().nullable(),
  }),
  // Reads see only live rows unless they ask with `filters: false` (run history does).
  filters: { live: { name: 'live', cond: { deletedAt: null }, default: true } },
  indexes: [{ properties: ['organization', 'name', 'id'] }],
});
export type Flow = InferEntity<typeof FlowSchema>;

export const FlowStepSchema = defineEntity({
  name: 'FlowStep',
  tableName: 'flow_steps',
  properties: (p) => ({
    ...baseProperties('FlowStep'),
    flow: p.manyToOne(FlowSchema).mapToPk().deleteRule('cascade'),
    position: p.integer(),
    // A prompt used by a flow cannot be deleted until the flow stops using it (no 'cascade' here):
    // deleting it would silently change what the flow does.
    prompt: p.manyToOne(PromptSchema).mapToPk().deleteRule('no action').index(),
  }),
  uniques: [{ properties: ['flow', 'position'] }],
});
export type FlowStep = InferEntity<typeof FlowStepSchema>;
