/** Rows of flows: reading, creating, changing, deleting. */
import { expect } from 'vitest';
import {
  U,
  DEAD,
  NF,
  F,
  type Row,
  w,
  looseFlowId,
  exists,
  unique,
  freshFlow,
} from './matrix.ts';

export const rows: Row[] = [
  {
    field: 'Query.flow',
    name: 'flow',
    // The flow key reads the flow and, through its grant, the prompt of its step.
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { flow(id: $id) { id steps { prompt { id } } } }',
      variables: { id: w.flowId },
      ok: (d) => expect(d.flow).toEqual({ id: w.flowId, steps: [{ prompt: { id: w.promptId } }] }),
    }),
  },
  {
    field: 'Query.flow',
    name: 'flow(not granted)',
    expect: { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    reason: { promptKey: 'NOT_GRANTED', flowKey: 'NOT_GRANTED' },
    prepare: () => ({
      query: 'query($id: ID!) { flow(id: $id) { id } }',
      variables: { id: looseFlowId },
      ok: (d) => expect(d.flow).toEqual({ id: looseFlowId }),
    }),
  },

  // ── Mutation: flows ──
  {
    field: 'Mutation.createFlow',
    name: 'createFlow',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: () => {
      const name = unique('Matrix flow');
      return {
        query: 'mutation($input: CreateFlowInput!) { createFlow(input: $input) { name steps { prompt { id } } } }',
        variables: { input: { organizationId: w.organizationId, name, steps: [{ promptId: w.promptId }] } },
        ok: (d) => expect(d.createFlow).toEqual({ name, steps: [{ prompt: { id: w.promptId } }] }),
        changed: () => exists('select id from flows where name = ?', [name]),
      };
    },
  },
  {
    field: 'Mutation.updateFlow',
    name: 'updateFlow',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const flowId = await freshFlow();
      const name = unique('Renamed flow');
      return {
        query: 'mutation($input: UpdateFlowInput!) { updateFlow(input: $input) { id name } }',
        variables: { input: { flowId, name } },
        ok: (d) => expect(d.updateFlow).toEqual({ id: flowId, name }),
        changed: () => exists('select id from flows where id = ? and name = ?', [flowId, name]),
      };
    },
  },
  {
    field: 'Mutation.deleteFlow',
    name: 'deleteFlow',
    audited: true,
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: async () => {
      const flowId = await freshFlow();
      return {
        query: 'mutation($input: DeleteFlowInput!) { deleteFlow(input: $input) }',
        variables: { input: { flowId } },
        ok: (d) => expect(d.deleteFlow).toBe(flowId),
        changed: () => exists('select id from flows where id = ? and deleted_at is not null', [flowId]),
      };
    },
  },
];
