/** Rows of prompts: reading, creating, changing, deleting. */
import { expect } from 'vitest';
import {
  U,
  DEAD,
  NF,
  F,
  type Row,
  w,
  loosePromptId,
  exists,
  unique,
  freshPrompt,
} from './matrix.ts';

export const rows: Row[] = [
  // ── Query: prompts and flows ──
  {
    field: 'Query.prompt',
    name: 'prompt',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { prompt(id: $id) { id name organization { id } } }',
      variables: { id: w.promptId },
      ok: (d) => expect(d.prompt).toEqual({ id: w.promptId, name: 'Summarize', organization: { id: w.organizationId } }),
    }),
  },
  {
    field: 'Query.prompt',
    name: 'prompt(not granted, in no flow)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { prompt(id: $id) { id } }',
      variables: { id: loosePromptId },
      ok: (d) => expect(d.prompt).toEqual({ id: loosePromptId }),
    }),
  },

  // ── Mutation: prompts ──
  {
    field: 'Mutation.createPrompt',
    name: 'createPrompt',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => {
      const name = unique('Matrix prompt');
      return {
        query: 'mutation($input: CreatePromptInput!) { createPrompt(input: $input) { name organization { id } } }',
        variables: { input: { organizationId: w.organizationId, name, template: 'Hello {{name}}' } },
        ok: (d) => expect(d.createPrompt).toEqual({ name, organization: { id: w.organizationId } }),
        changed: () => exists('select id from prompts where name = ?', [name]),
      };
    },
  },
  {
    field: 'Mutation.updatePrompt',
    name: 'updatePrompt',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const promptId = await freshPrompt();
      const name = unique('Renamed prompt');
      return {
        query: 'mutation($input: UpdatePromptInput!) { updatePrompt(input: $input) { id name } }',
        variables: { input: { promptId, name } },
        ok: (d) => expect(d.updatePrompt).toEqual({ id: promptId, name }),
        changed: () => exists('select id from prompts where id = ? and name = ?', [promptId, name]),
      };
    },
  },
  {
    field: 'Mutation.deletePrompt',
    name: 'deletePrompt',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const promptId = await freshPrompt();
      return {
        query: 'mutation($input: DeletePromptInput!) { deletePrompt(input: $input) }',
        variables: { input: { promptId } },
        ok: (d) => expect(d.deletePrompt).toBe(promptId),
        // Deleted prompts stay, marked, for the runs that ran them.
        changed: () => exists('select id from prompts where id = ? and deleted_at is not null', [promptId]),
      };
    },
  },
];
