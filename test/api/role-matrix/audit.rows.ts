/** Rows of the audit log. */
import { expect } from 'vitest';
import {
  U,
  DEAD,
  NF,
  F,
  type Row,
  w,
} from './matrix.ts';

export const rows: Row[] = [
  {
    field: 'Organization.auditLog',
    name: 'organization.auditLog',
    expect: { anonymous: U, ...DEAD, orgKey: F, promptKey: F, flowKey: F, outsider: NF, otherAdmin: NF, member: F, admin: 'ok', owner: 'ok' },
    prepare: () => ({
      query: 'query($id: ID!) { organization(id: $id) { auditLog(first: 5) { totalCount nodes { id action } } } }',
      variables: { id: w.organizationId },
      ok: (d) => expect(d.organization.auditLog.totalCount).toBeGreaterThan(0),
    }),
  },
];
