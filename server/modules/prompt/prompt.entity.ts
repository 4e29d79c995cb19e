import { defineEntity, type InferEntity } from '@mikro-orm/core';
import { OrganizationSchema } from '../organization/organization.entity.ts';

export const PromptSchema = defineEntity({
  name: 'Prompt',
  tableName: 'prompts',
  properties: (p) => ({
    id: p.string().primary().length(32),
    organization: p.manyToOne(OrganizationSchema).mapToPk().deleteRule('cascade'),
    name: p.string().length(200),
    description: p.text().nullable(),
    template: p.text(),
    model: p.string().length(200),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  }),
  // Lists are ordered by name within an organization.
  indexes: [{ properties: ['organization', 'name', 'id'] }],
});
export type Prompt = InferEntity<typeof PromptSchema>;
