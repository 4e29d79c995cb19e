/** Rows of node(id) for every Node type (runs have theirs in runs.rows.ts). */
import {
  U,
  DEAD,
  NF,
  F,
  type Row,
  w,
  auditEventId,
  specificKey,
  nodeRow,
  ownKeyOrSpecific,
} from './matrix.ts';

export const rows: Row[] = [
  // ── Query: node(id) of every Node type ──
  nodeRow('Organization', () => w.organizationId, { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  // The world's prompt: granted to the prompt key, and a step of the flow granted to the flow key.
  nodeRow('Prompt', () => w.promptId, { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  // A prompt grant does not cover the flows that run the prompt.
  nodeRow(
    'Flow',
    () => w.flowId,
    { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: F, flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    { reason: { promptKey: 'NOT_GRANTED' } },
  ),
  nodeRow('User', () => w.owner.id, { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow('AuditEvent', () => auditEventId, { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' }),
  // Another key of the world's organization: members read every key, a key only itself.
  nodeRow('ApiKey', () => specificKey.id, { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' }),
  nodeRow(
    'ApiKey',
    ({ caller }) => ownKeyOrSpecific(caller).id,
    { anonymous: U, ...DEAD, orgKey: 'ok', promptKey: 'ok', flowKey: 'ok', outsider: NF, otherAdmin: NF, member: 'ok', admin: 'ok', owner: 'ok' },
    { name: 'node(ApiKey: own key)' },
  ),
];
