import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { timestampedProperties } from '../../db/base.entity.ts';
import { OrganizationSchema } from '../organization/organization.entity.ts';

export const PromptSchema = defineEntity({
  name: 'Prompt',
  tableName: 'prompts',
  properties: (p) => ({
    ...timestampedProperties('Prompt'),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    name: p.string().length(200),
    description: p.text().nullable(),
    template: p.text(),
    model: p.string().length(200),
    /** Set when deleted: runs keep pointing at it, every other read leaves it out. */
    deletedAt: p.datetime().nullable(),
  }),
  // Reads see only live rows unless they ask with `filters: false` (run history does).
  filters: { live: { name: 'live', cond: { deletedAt: null }, default: true } },
  // Lists are ordered by name within an organization.
  indexes: [{ properties: ['organization', 'name', 'id'] }],
});
export type Prompt = InferEntity<typeof PromptSchema>;
