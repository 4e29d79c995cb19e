/**
 * The role matrix: every root operation of the schema (and the nested fields that carry a
 * per-caller rule of their own: Organization.members/prompts/flows/auditLog/apiKeys/runs,
 * Prompt.availableApiKeys, Flow.availableApiKeys, and the fields whose items carry one:
 * User.memberships, Viewer.apiKey, ApiKey.prompts/flows/usage/usageByResource) against every
 * kind of caller, each cell asserting its exact outcome, that a refused operation changes nothing
 * and writes no audit event, and that an allowed change writes exactly one (DESIGN.md rules 1 to
 * 4 and 9). Runs are not audited: their rows check instead that a run is recorded (or rated) iff
 * the call is allowed (rule 7), and that a key reads, lists and rates its own runs only.
 *
 * The callers: nobody; credentials refused as a whole (a malformed session token, an API key
 * that fails its checksum, a revoked key, an expired key); three valid keys of the world's
 * organization (organization-wide, granted the world's prompt only, granted the world's flow
 * only, whose one step is that prompt); two strangers (the owner and an admin of another
 * organization); and the world's member, admin and owner.
 *
 * To add a kind of caller: add its name to CALLERS and its factory to CALLER_FACTORIES (matrix.ts).
 * TypeScript then asks every row for that column's expectation. To add an operation: add a row to
 * its domain's *.rows.ts beside this file (a new domain's file goes into ROWS below); the coverage
 * tests fail until every root field of schema.graphql, every nested field with a rule of its own
 * and every Node type has one.
 */
import { readFileSync } from 'node:fs';
import { buildSchema, GraphQLObjectType } from 'graphql';
import { ID_PREFIXES, newId } from '../../../server/ids.ts';
import { schema as liveSchema } from '../../../server/schema.ts';
import { dataOf, type GraphQLResponse } from '../../harness.ts';
import { describe, expect, test as it, test } from '../../kit.ts';
import { rows as apiKeyRows } from './api-keys.rows.ts';
import { rows as auditRows } from './audit.rows.ts';
import { rows as flowRows } from './flows.rows.ts';
import { HIDDEN } from './hidden.cases.ts';
import { rows as insightRows } from './insight.rows.ts';
import { CALLERS, callers, count, expectedReason, h, setUpMatrix, w, type CallerName, type Row } from './matrix.ts';
import { rows as nodeRows } from './nodes.rows.ts';
import { rows as organizationRows } from './organizations.rows.ts';
import { rows as promptRows } from './prompts.rows.ts';
import { rows as runRows } from './runs.rows.ts';
import { rows as userRows } from './users.rows.ts';
import { rows as webhookRows } from './webhooks.rows.ts';

const ROWS: Row[] = [...userRows, ...nodeRows, ...organizationRows, ...auditRows, ...promptRows, ...flowRows, ...apiKeyRows, ...insightRows, ...runRows, ...webhookRows];

// ───────────────────────────── running the matrix ─────────────────────────────

test.beforeAll(({ h }) => setUpMatrix(h));

/** 'ok', or the code of the first error. */
function outcomeOf(response: GraphQLResponse): string {
  return response.errors?.length ? String(response.errors[0]!.extensions?.code) : 'ok';
}

const auditEvents = () => count('select count(*) as n from audit_events');

describe('role matrix', () => {
  // Titles go through '%s' (tuples), which vitest prints whole and unquoted.
  describe.each(ROWS.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    it.each(CALLERS.map((callerName) => [`${row.name} × ${callerName} → ${row.expect[callerName]}`, callerName] as const))(
      '%s',
      async (_title, callerName) => {
        const caller = callers[callerName];
        const cell = await row.prepare({ caller, callerName });
        const sender = cell.as ?? caller;
        const auditBefore = await auditEvents();
        const response = await h.gql(cell.query, cell.variables, { token: sender.token });
        const expected = row.expect[callerName];

        expect(outcomeOf(response), JSON.stringify(response.errors)).toBe(expected);
        if (expected === 'ok') {
          expect(response.data).toBeTruthy();
          cell.ok?.(response.data);
        } else {
          // Every error of the answer says the same thing.
          expect(response.errors!.map((e) => e.extensions?.code)).toEqual(response.errors!.map(() => expected));
          if (sender.refusedOutright) {
            expect(response.data ?? null).toBeNull();
            expect(response.status).toBe(401);
          }
          // Every FORBIDDEN names why; a key's names which key (rule 4), a role's the role needed.
          if (expected === 'FORBIDDEN') {
            const reason = expectedReason(row, callerName, sender);
            const extensions = response.errors![0]!.extensions!;
            expect(extensions.reason, JSON.stringify(response.errors)).toBe(reason);
            if (sender.apiKey) expect(extensions.apiKeyId).toBe(sender.apiKey.id);
            if (reason === 'ROLE_TOO_LOW' || reason === 'PROTECTED_ROLE') expect(['MEMBER', 'ADMIN', 'OWNER']).toContain(extensions.requiredRole);
          }
        }
        if (cell.changed) expect(await cell.changed(), 'whether the change happened').toBe(expected === 'ok');
        const written = (await auditEvents()) - auditBefore;
        if (expected !== 'ok') expect(written, 'audit events written by a refused call').toBe(0);
        else if (row.audited) expect(written, 'audit events written by an allowed change').toBe(1);
      },
    );
  });

  it('refuses each dead key for the reason its column names, and the owner sees it so', async () => {
    const status = async (name: CallerName) =>
      dataOf(await h.gql('query($id: ID!) { apiKey(id: $id) { status } }', { id: callers[name].apiKey!.id }, { token: w.owner.token })).apiKey.status;
    expect(await status('revokedKey')).toBe('REVOKED');
    expect(await status('expiredKey')).toBe('EXPIRED');
    const message = async (name: CallerName) => (await h.gql('{ viewer { apiKey { id } } }', {}, { token: callers[name].token })).errors?.[0]?.message;
    expect(await message('revokedKey')).toMatch(/revoked/);
    expect(await message('expiredKey')).toMatch(/expired/);
    expect(await message('malformedKey')).toMatch(/not a PromptGate session token or API key/);
  });

  it('has a row for every root Query and Mutation field of schema.graphql, and for no field that does not exist', () => {
    const committed = buildSchema(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));
    const roots = [committed.getQueryType()!, committed.getMutationType()!].flatMap((type) =>
      Object.keys(type.getFields()).map((field) => `${type.name}.${field}`),
    );
    const covered = new Set(ROWS.map((row) => row.field));
    expect(roots.filter((field) => !covered.has(field))).toEqual([]);
    const unknown = [...covered].filter((field) => {
      const [typeName, fieldName] = field.split('.') as [string, string];
      const type = committed.getType(typeName) as GraphQLObjectType | undefined;
      return !type?.getFields()[fieldName];
    });
    expect(unknown).toEqual([]);
  });

  it('has a row for every nested field with a rule of its own', () => {
    const ruled = Object.values(liveSchema.getTypeMap())
      .filter((type): type is GraphQLObjectType => type instanceof GraphQLObjectType && !type.name.startsWith('__'))
      .filter((type) => type !== liveSchema.getQueryType() && type !== liveSchema.getMutationType())
      .flatMap((type) =>
        Object.values(type.getFields())
          .filter((field) => (field.extensions as any)?.pothosOptions?.authScopes !== undefined)
          .map((field) => `${type.name}.${field.name}`),
      );
    expect(ruled).toEqual(expect.arrayContaining(['Organization.apiKeys', 'Prompt.availableApiKeys', 'Flow.availableApiKeys']));
    const covered = new Set(ROWS.map((row) => row.field));
    expect(ruled.filter((field) => !covered.has(field))).toEqual([]);
  });

  it('has a node(id) row for every Node type', () => {
    const nodeTypes = liveSchema.getPossibleTypes(liveSchema.getType('Node') as any).map((type) => type.name);
    expect(nodeTypes.length).toBeGreaterThan(0);
    for (const type of nodeTypes) expect(Object.keys(ID_PREFIXES)).toContain(type);
    const covered = new Set(ROWS.filter((row) => row.field === 'Query.node').map((row) => row.name));
    expect(nodeTypes.filter((type) => !covered.has(`node(${type})`))).toEqual([]);
  });
});

describe('NOT_FOUND for what one cannot see is the answer for an id that does not exist', () => {
  it.each(HIDDEN.map((hidden) => [hidden.name, hidden] as const))('%s', async (_name, hidden) => {
    const caller = callers[hidden.by];
    const realId = await hidden.real();
    const missingId = newId(hidden.type);
    const ask = async (id: string) => {
      const response = await h.gql(hidden.query, hidden.variables(id), { token: caller.token });
      return JSON.parse(JSON.stringify(response).replaceAll(id, '<id>'));
    };
    const hiddenAnswer = await ask(realId);
    expect(hiddenAnswer.errors?.[0]?.extensions?.code, JSON.stringify(hiddenAnswer)).toBe('NOT_FOUND');
    expect(hiddenAnswer.errors[0].message).toContain('<id>');
    expect(hiddenAnswer).toEqual(await ask(missingId));
  });
});
